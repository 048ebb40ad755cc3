import type { TaskList, CronItem } from 'graphile-worker';
import type { AppContext } from './http/context.js';
import { outboundRunner } from './outbound/runner.js';

export interface Loop { stop(): Promise<void> }

/** Every job handler, by task name. Each area adds its own here. */
export function workerTasks(_ctx: AppContext): TaskList {
  return {};
}

/** graphile-worker cron items (static schedules; per-segment schedules are checked by a minute tick). */
export function cronItems(): CronItem[] {
  return [];
}

/** Long-running loops started with the worker role. */
export const backgroundLoops: ((ctx: AppContext) => Loop)[] = [
  outboundRunner, // the outbound tasks, on a graphile-worker runner of their own (src/outbound/runner.ts)
];
