import type { Definition, SurveyAnswerCondition, InteractionCondition, AttributeCondition, TraitCondition, EventCondition, SegmentCondition, AccountTraitCondition } from './schema.js';
import { kindOf } from './schema.js';
import { splitOp } from './compare.js';
import { countHolds, countTest } from './compile.js';

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
      out.add(attributeInput(def as AttributeCondition));
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

/**
 * The input an automatic-field condition reads. Last seen moves with nearly every message, but a window of a day or
 * more (and presence) can only flip when the user comes back after a while: ingest marks that separately
 * ('attribute:lastSeenAt:window', see profiles/store.ts), so such segments are not re-checked on every event.
 */
function attributeInput(c: AttributeCondition): string {
  if (c.attribute !== 'lastSeenAt') return `attribute:${c.attribute}`;
  const window = c.op === 'exists' || c.op === 'not_exists' || ((c.op === 'within_last' || c.op === 'more_than_ago') && c.days! >= 1);
  return window ? 'attribute:lastSeenAt:window' : 'attribute:lastSeenAt';
}

/** Every automatic-field input: what the generic 'attribute' mark (any automatic field may have moved) stands for. */
const ALL_ATTRIBUTE_INPUTS = ['attribute:firstSeenAt', 'attribute:lastSeenAt', 'attribute:lastSeenAt:window', 'attribute:lastSurveyResponseAt'];

type Maybe = boolean | 'unknown';

/**
 * Whether a definition can hold for a user created just now, before counting the inputs their first messages marked:
 * no traits, accounts, events, answers or interactions, no segment but `everyone` ones. Their automatic fields are
 * set, so those conditions are 'unknown'. A new user is marked 'new' plus what their messages changed: a segment
 * that reads none of those inputs sees exactly this empty user, so when this says false it cannot match and is
 * not checked (most segments need some trait or event; only negative conditions match an empty user).
 */
export function newUserMayMatch(def: Definition, segmentTypes: Map<string, string>): boolean {
  return emptyUserValue(def, segmentTypes) !== false;
}

function emptyUserValue(def: Definition, types: Map<string, string>): Maybe {
  const kind = kindOf(def)!;
  switch (kind) {
    case 'all': {
      const values = (def as { all: Definition[] }).all.map((d) => emptyUserValue(d, types));
      return values.includes(false) ? false : values.includes('unknown') ? 'unknown' : true;
    }
    case 'any': {
      const values = (def as { any: Definition[] }).any.map((d) => emptyUserValue(d, types));
      return values.includes(true) ? true : values.includes('unknown') ? 'unknown' : false;
    }
    case 'not': {
      const v = emptyUserValue((def as { not: Definition }).not, types);
      return v === 'unknown' ? v : !v;
    }
    // Absent values match exactly the negative operators (compare.ts); "any account has" is false with no account.
    case 'trait': return splitOp((def as TraitCondition).op).negated;
    case 'accountTrait': return splitOp((def as AccountTraitCondition).op).negated;
    case 'surveyAnswer': return splitOp((def as SurveyAnswerCondition).op).negated;
    case 'attribute': return 'unknown';
    case 'event': return countHolds(0, countTest(def as EventCondition));
    case 'interaction': return !(def as InteractionCondition).performed;
    case 'segment': {
      const c = def as SegmentCondition;
      return (types.get(c.segment) === 'everyone') === c.member;
    }
    default: {
      const never: never = kind;
      throw new Error(`unhandled node kind ${String(never)}`);
    }
  }
}

/** Ids of the segments a definition references. */
export function referencedSegments(def: Definition | null | undefined): string[] {
  if (!def) return [];
  return [...inputsOf(def)].filter((i) => i.startsWith('segment:')).map((i) => i.slice('segment:'.length));
}

/** The index keys a dirty input can hit: itself, plus the "any survey" wildcards; 'attribute' hits every automatic field. */
export function indexKeysFor(input: string): string[] {
  if (input === 'attribute') return ALL_ATTRIBUTE_INPUTS;
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
