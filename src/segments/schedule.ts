import type { Knex } from 'knex';
import { CronExpressionParser } from 'cron-parser';
import { addJob } from '../outbound/queue.js';
import { logger } from '../lib/logger.js';
import { evaluateFull } from './evaluate.js';
import { getSegment, scheduledSegments, type SegmentRow } from './store.js';

/** The latest occurrence of the segment's cron at or before `now` (in its time zone). */
export function lastOccurrence(schedule: NonNullable<SegmentRow['schedule']>, now: Date): Date {
  const it = CronExpressionParser.parse(schedule.cron, { currentDate: new Date(now.getTime() + 1), tz: schedule.timezone });
  return it.prev().toDate();
}

/** A segment is due when its cron fired after the last scheduled run (or after it was activated). */
export function isDue(s: SegmentRow, now: Date): boolean {
  if (!s.schedule) return false;
  const since = s.last_scheduled_at ?? s.updated_at;
  return lastOccurrence(s.schedule, now).getTime() > new Date(since).getTime();
}

/**
 * The minute tick (graphile-worker cron): finds active dynamic segments whose schedule is due, moves their
 * watermark and enqueues one `segment.evaluate` job each (job key per segment: never two pending at once).
 * Returns the ids enqueued.
 */
export async function scheduleDueSegments(db: Knex, now: Date): Promise<string[]> {
  return db.transaction(async (trx) => {
    const due = (await scheduledSegments(trx)).filter((s) => isDue(s, now));
    for (const s of due) {
      await trx('segments').where({ workspace_id: s.workspace_id, id: s.id }).update({ last_scheduled_at: now });
      await addJob(trx, 'segment.evaluate', { workspaceId: s.workspace_id, segmentId: s.id }, { jobKey: `segment.evaluate:${s.id}`, maxAttempts: 3 });
    }
    return due.map((s) => s.id);
  });
}

/** The `segment.evaluate` job: a scheduled full evaluation (cause schedule, no effects) if still active. */
export async function runScheduledEvaluation(db: Knex, payload: { workspaceId: string; segmentId: string }, now: Date) {
  const s = await getSegment(db, payload.workspaceId, payload.segmentId);
  if (!s || s.status !== 'active' || s.type !== 'dynamic') return;
  const r = await evaluateFull(db, payload.workspaceId, payload.segmentId, { cause: 'schedule', now });
  logger.info({ segmentId: s.id, ...r }, 'scheduled evaluation');
}
