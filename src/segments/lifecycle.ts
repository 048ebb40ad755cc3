import type { Knex } from 'knex';
import type { Db } from '../db/types.js';
import { HttpError, notFound } from '../http/errors.js';
import type { CreateSegment, Definition, PatchSegment, SegmentStatus } from './schema.js';
import { findCycle, referencedSegments } from './dependencies.js';
import { evaluateFull, type EvaluationResult } from './evaluate.js';
import { allSegments, getSegment, insertSegment, updateSegment, type SegmentRow } from './store.js';

/**
 * Status changes a segment may make. An archived segment is unarchived to `paused` (keeps its members, not
 * evaluated) or `draft` before it can be activated again.
 */
const TRANSITIONS: Record<SegmentStatus, SegmentStatus[]> = {
  draft: ['active', 'archived'],
  active: ['paused', 'archived'],
  paused: ['active', 'archived'],
  archived: ['paused', 'draft'],
};

export function checkTransition(from: SegmentStatus, to: SegmentStatus) {
  if (from === to || TRANSITIONS[from].includes(to)) return;
  if (from === 'archived' && to === 'active') {
    throw new HttpError(409, 'archived', 'An archived segment must be unarchived first: set its status to "paused" or "draft", then "active".');
  }
  throw new HttpError(409, 'invalid_transition', `A segment cannot go from ${from} to ${to}`, { from, to, allowed: TRANSITIONS[from] });
}

/** Referenced segments must exist in this workspace, and no reference may lead back to the segment itself. */
export async function checkReferences(db: Db, workspaceId: string, segmentId: string | null, definition: Definition) {
  const refs = referencedSegments(definition);
  if (!refs.length) return;
  const all = await allSegments(db, workspaceId);
  const known = new Set(all.map((s) => s.id));
  const missing = refs.filter((r) => !known.has(r));
  if (missing.length) throw new HttpError(400, 'invalid', `Invalid body: definition references unknown segment ${missing.join(', ')}`, missing.map((id) => ({ path: 'definition', message: `Unknown segment ${id}` })));
  if (segmentId) {
    const cycle = findCycle(segmentId, definition, all.filter((s) => s.id !== segmentId));
    if (cycle) {
      const message = cycle.length === 2 ? 'A segment cannot reference itself' : `Segment references form a cycle: ${cycle.join(' → ')}`;
      throw new HttpError(400, 'invalid', `Invalid body: definition: ${message}`, [{ path: 'definition', message, cycle }]);
    }
  }
}

function checkShape(type: SegmentRow['type'], fields: { definition?: unknown; schedule?: unknown }) {
  if (type !== 'dynamic' && fields.definition !== undefined && fields.definition !== null) {
    throw new HttpError(400, 'invalid', `Invalid body: definition: only dynamic segments have a definition`, [{ path: 'definition', message: 'Only dynamic segments have a definition' }]);
  }
  if (type !== 'dynamic' && fields.schedule) {
    throw new HttpError(400, 'invalid', `Invalid body: schedule: only dynamic segments have a schedule`, [{ path: 'schedule', message: 'Only dynamic segments have a schedule' }]);
  }
}

export async function createSegment(db: Db, workspaceId: string, input: CreateSegment): Promise<SegmentRow> {
  checkShape(input.type, input);
  if (input.type === 'dynamic' && !input.definition) {
    throw new HttpError(400, 'invalid', 'Invalid body: definition: a dynamic segment needs a definition', [{ path: 'definition', message: 'Required for dynamic segments' }]);
  }
  if (input.definition) await checkReferences(db, workspaceId, null, input.definition);
  return insertSegment(db, workspaceId, input);
}

/**
 * Changes fields and/or status. Activating a dynamic segment, or changing the definition of an active one, runs a
 * full evaluation (quiet: no effects) after the change is committed.
 */
export async function patchSegment(db: Knex, workspaceId: string, id: string, patch: PatchSegment, now: Date): Promise<{ segment: SegmentRow; evaluation?: EvaluationResult }> {
  const { segment, evaluate } = await db.transaction(async (trx) => {
    const current = await getSegment(trx, workspaceId, id, { forUpdate: true });
    if (!current) throw notFound('Segment');
    checkShape(current.type, patch);
    if (patch.definition) await checkReferences(trx, workspaceId, id, patch.definition);
    const status = patch.status ?? current.status;
    checkTransition(current.status, status);
    const activating = status === 'active' && current.status !== 'active';
    const definitionChanged = patch.definition !== undefined && JSON.stringify(patch.definition) !== JSON.stringify(current.definition);
    const scheduleChanged = patch.schedule !== undefined && JSON.stringify(patch.schedule) !== JSON.stringify(current.schedule);
    const updated = await updateSegment(trx, workspaceId, id, {
      name: patch.name,
      description: patch.description,
      definition: patch.definition,
      schedule: patch.schedule,
      status: patch.status,
      // A schedule counts from when it was set or the segment was (re)activated, not from the past.
      last_scheduled_at: activating || scheduleChanged ? now : undefined,
    });
    return { segment: updated, evaluate: current.type === 'dynamic' && status === 'active' && (activating || definitionChanged) };
  });
  if (!evaluate) return { segment };
  const evaluation = await evaluateFull(db, workspaceId, id, { cause: 'full', now });
  return { segment: (await getSegment(db, workspaceId, id))!, evaluation };
}

/** `POST .../evaluate`: a full evaluation on demand (any dynamic segment that is not archived). */
export async function evaluateOnDemand(db: Knex, workspaceId: string, id: string, now: Date): Promise<EvaluationResult> {
  const segment = await getSegment(db, workspaceId, id);
  if (!segment) throw notFound('Segment');
  if (segment.status === 'archived') throw new HttpError(409, 'archived', 'An archived segment is not evaluated; unarchive it first');
  return evaluateFull(db, workspaceId, id, { cause: 'full', now });
}
