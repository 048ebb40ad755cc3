import type { Knex } from 'knex';
import type { Db } from '../db/types.js';
import { HttpError } from '../http/errors.js';
import { selectMatching } from './compile.js';
import { referencedSegments, topologicalOrder } from './dependencies.js';
import { sql, rowsOf } from './sql.js';
import { activeDynamicSegments, applyDiffCounts, getSegment, recordSize, segmentSize, segmentTypes, type Cause, type SegmentRow } from './store.js';

export interface EvaluationResult { size: number; entered: number; exited: number }

/** Retries a transaction that lost a deadlock or serialization race (e.g. a full and an incremental evaluation). */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (i + 1 >= attempts || (code !== '40P01' && code !== '40001')) throw e;
    }
  }
}

/**
 * Full evaluation (DESIGN principle 5): computes the segment's member set over every user of the workspace,
 * set-based, writes only the difference, logs it with its cause and records a size history row. Fires no effects.
 * Active dynamic segments that reference this one are then re-evaluated the same way (in dependency order).
 */
export async function evaluateFull(db: Knex, workspaceId: string, segmentId: string, opts: { cause: Cause; now: Date }): Promise<EvaluationResult> {
  const result = await withRetry(() => db.transaction((trx) => evaluateFullIn(trx, workspaceId, segmentId, opts)));
  if (result.entered + result.exited > 0) await cascade(db, workspaceId, segmentId, opts);
  return result;
}

async function evaluateFullIn(trx: Knex.Transaction, workspaceId: string, segmentId: string, opts: { cause: Cause; now: Date }): Promise<EvaluationResult> {
  // One full evaluation of a segment at a time; incremental batches can run beside it (the diff tolerates them).
  await trx.raw(`select pg_advisory_xact_lock(hashtextextended(?::text, 7207))`, [segmentId]);
  // A bulk statement: let its hash aggregates and joins stay in memory (this transaction only).
  await trx.raw(`set local work_mem = '64MB'`);
  const segment = await getSegment(trx, workspaceId, segmentId);
  if (!segment) throw new HttpError(404, 'not_found', 'Segment not found');
  if (segment.type !== 'dynamic' || !segment.definition) {
    return { size: await segmentSize(trx, workspaceId, segment), entered: 0, exited: 0 };
  }
  const target = selectMatching(segment.definition, { workspaceId, now: opts.now, segmentTypes: await segmentTypes(trx, workspaceId) });
  const { entered, exited } = await applyDiffCounts(trx, { workspaceId, segmentId, target, cause: opts.cause, at: opts.now });
  const size = await segmentSize(trx, workspaceId, segment);
  await recordSize(trx, workspaceId, segmentId, { size, entered, exited, cause: opts.cause, at: opts.now });
  await trx.raw(`update segments set last_evaluated_at = ? where workspace_id = ? and id = ?`, [opts.now, workspaceId, segmentId]);
  return { size, entered, exited };
}

/** Re-evaluates (fully, quietly) the active dynamic segments that depend on `segmentId`, directly or not. */
async function cascade(db: Knex, workspaceId: string, segmentId: string, opts: { cause: Cause; now: Date }) {
  const active = await activeDynamicSegments(db, [workspaceId]);
  const affected = new Set<string>([segmentId]);
  for (const s of topologicalOrder(active)) {
    if (s.id === segmentId || !referencedSegments(s.definition).some((r) => affected.has(r))) continue;
    affected.add(s.id);
    await withRetry(() => db.transaction((trx) => evaluateFullIn(trx, workspaceId, s.id, opts)));
  }
}

/** Preview: how many users an unsaved definition matches, and a sample of them. Same compiler. */
export async function previewDefinition(db: Db, workspaceId: string, definition: SegmentRow['definition'], now: Date, sampleSize: number) {
  const target = selectMatching(definition!, { workspaceId, now, segmentTypes: await segmentTypes(db, workspaceId) });
  const withT = sql`with t as (${target}) select (select count(*) from t) as count, array(select user_id from t order by user_id limit ${sampleSize}) as sample`;
  const [r] = await rowsOf<{ count: number; sample: string[] }>(db, withT);
  return { count: Number(r.count), sample: r.sample };
}
