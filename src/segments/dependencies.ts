import type { Definition, SurveyAnswerCondition, InteractionCondition, AttributeCondition, TraitCondition, EventCondition, SegmentCondition } from './schema.js';
import { kindOf } from './schema.js';

/**
 * The inputs a definition reads, in the vocabulary of dirty_users.inputs (see dirty.ts): the incremental evaluator
 * re-checks a segment for a dirty user only when one of these changed. `survey:*` / `interaction:*` stand for
 * "any survey".
 */
export function inputsOf(def: Definition, out = new Set<string>()): Set<string> {
  const kind = kindOf(def)!;
  switch (kind) {
    case 'all': for (const d of (def as { all: Definition[] }).all) inputsOf(d, out); break;
    case 'any': for (const d of (def as { any: Definition[] }).any) inputsOf(d, out); break;
    case 'not': inputsOf((def as { not: Definition }).not, out); break;
    case 'trait': out.add(`trait:${(def as TraitCondition).trait}`); break;
    case 'accountTrait': out.add('account'); break;
    case 'attribute':
      out.add('attribute');
      if ((def as AttributeCondition).attribute === 'lastSurveyResponseAt') out.add('survey:*');
      break;
    case 'event': out.add(`event:${(def as EventCondition).event}`); break;
    case 'surveyAnswer': out.add(`survey:${(def as SurveyAnswerCondition).survey}`); break;
    case 'interaction': {
      const c = def as InteractionCondition;
      const id = c.survey === 'any' ? '*' : c.survey;
      if (c.interaction === 'completed') out.add(`survey:${id}`);
      out.add(`interaction:${id}`);
      break;
    }
    case 'segment': out.add(`segment:${(def as SegmentCondition).segment}`); break;
    default: {
      const never: never = kind;
      throw new Error(`unhandled node kind ${String(never)}`);
    }
  }
  return out;
}

/** Ids of the segments a definition references. */
export function referencedSegments(def: Definition | null | undefined): string[] {
  if (!def) return [];
  return [...inputsOf(def)].filter((i) => i.startsWith('segment:')).map((i) => i.slice('segment:'.length));
}

/** The index keys a dirty input can hit: itself, plus the "any survey" wildcards. */
export function indexKeysFor(input: string): string[] {
  if (input.startsWith('survey:')) return [input, 'survey:*'];
  if (input.startsWith('interaction:')) return [input, 'interaction:*'];
  return [input];
}

export interface SegmentNode { id: string; definition: Definition | null }

/**
 * Finds a cycle through segment references when `candidate` gets `definition`, among the workspace's segments.
 * Returns the cycle as a list of ids (first = last), or null.
 */
export function findCycle(candidateId: string, definition: Definition, others: SegmentNode[]): string[] | null {
  const edges = new Map<string, string[]>(others.map((s) => [s.id, referencedSegments(s.definition)]));
  edges.set(candidateId, referencedSegments(definition));
  const stack: string[] = [];
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (id: string): string[] | null => {
    if (visiting.has(id)) return [...stack.slice(stack.indexOf(id)), id];
    if (done.has(id)) return null;
    visiting.add(id);
    stack.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    visiting.delete(id);
    done.add(id);
    return null;
  };
  return visit(candidateId);
}

/** Orders segments so that every segment comes after the segments it references (Kahn's algorithm; cycles last). */
export function topologicalOrder<T extends SegmentNode>(segments: T[]): T[] {
  const byId = new Map(segments.map((s) => [s.id, s]));
  const deps = new Map(segments.map((s) => [s.id, referencedSegments(s.definition).filter((r) => byId.has(r))]));
  const out: T[] = [];
  const placed = new Set<string>();
  let progress = true;
  while (out.length < segments.length && progress) {
    progress = false;
    for (const s of segments) {
      if (placed.has(s.id)) continue;
      if (deps.get(s.id)!.every((d) => placed.has(d))) {
        out.push(s);
        placed.add(s.id);
        progress = true;
      }
    }
  }
  for (const s of segments) if (!placed.has(s.id)) out.push(s);
  return out;
}

/** Segments grouped by depth: level 0 reads no other segment of the set, level n reads only levels below n. */
export function topologicalLevels<T extends SegmentNode>(segments: T[]): T[][] {
  const depth = new Map<string, number>();
  const byId = new Map(segments.map((s) => [s.id, s]));
  for (const s of topologicalOrder(segments)) {
    const refs = referencedSegments(s.definition).filter((r) => byId.has(r) && depth.has(r));
    depth.set(s.id, refs.length ? 1 + Math.max(...refs.map((r) => depth.get(r)!)) : 0);
  }
  const levels: T[][] = [];
  for (const s of segments) (levels[depth.get(s.id)!] ??= []).push(s);
  return levels.filter(Boolean);
}
