import type { TaskList, CronItem } from 'graphile-worker';
import type { AppContext } from './http/context.js';
import { scheduleDueSegments, runScheduledEvaluation } from './segments/schedule.js';
import { startIncrementalEvaluator } from './segments/incremental.js';
import { outboundRunner } from './outbound/runner.js';

export interface Loop { stop(): Promise<void> }

/** Every job handler, by task name. Each area adds its own here. */
export function workerTasks(ctx: AppContext): TaskList {
  return {
    'segment.schedule-tick': async () => { await scheduleDueSegments(ctx.db, ctx.clock.now()); },
    'segment.evaluate': async (payload) => runScheduledEvaluation(ctx.db, payload as { workspaceId: string; segmentId: string }, ctx.clock.now()),
  };
}

/** graphile-worker cron items (static schedules; per-segment schedules are checked by a minute tick). */
export function cronItems(): CronItem[] {
  return [{ task: 'segment.schedule-tick', match: '* * * * *', identifier: 'segment.schedule-tick', options: { backfillPeriod: 0, maxAttempts: 1 } }];
}

/** Long-running loops started with the worker role. */
export const backgroundLoops: ((ctx: AppContext) => Loop)[] = [
  startIncrementalEvaluator, // the segment engine's incremental evaluator (src/segments/incremental.ts)
  outboundRunner, // the outbound tasks, on a graphile-worker runner of their own (src/outbound/runner.ts)
];
