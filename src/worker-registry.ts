import type { TaskList, CronItem } from 'graphile-worker';
import type { AppContext } from './http/context.js';
import { outboundTasks } from './outbound/tasks.js';

export interface Loop { stop(): Promise<void> }

/** Every job handler, by task name. Each area adds its own here. */
export function workerTasks(ctx: AppContext): TaskList {
  return { ...outboundTasks(ctx).tasks };
}

/** graphile-worker cron items (static schedules; per-segment schedules are checked by a minute tick). */
export function cronItems(): CronItem[] {
  return [];
}

/** Long-running loops started with the worker role. */
export const backgroundLoops: ((ctx: AppContext) => Loop)[] = [];
