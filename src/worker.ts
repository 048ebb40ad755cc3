import { run, parseCronItems, type Runner, type TaskList, type CronItem } from 'graphile-worker';
import type { AppContext } from './http/context.js';
import { logger } from './lib/logger.js';
import { heartbeatOptions, startHeartbeat } from './outbound/heartbeat.js';
import { workerTasks, cronItems, backgroundLoops } from './worker-registry.js';

export interface WorkerHandle { stop(): Promise<void> }

/** The worker role: graphile-worker (outbox jobs and cron) plus the background loops (incremental evaluator). */
export async function startWorker(ctx: AppContext, connectionString: string): Promise<WorkerHandle> {
  const taskList: TaskList = workerTasks(ctx);
  const crons: CronItem[] = cronItems();
  const heartbeat = startHeartbeat(ctx.db, heartbeatOptions(ctx, 'main')); // crash recovery of locked jobs
  const runner: Runner = await run({
    connectionString,
    concurrency: ctx.config.WORKER_CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList,
    parsedCronItems: parseCronItems(crons),
    logger: undefined,
    events: heartbeat.events,
  });
  const loops = backgroundLoops.map((start) => start(ctx));
  logger.info({ tasks: Object.keys(taskList), loops: loops.length }, 'worker started');
  return {
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
      await runner.stop();
      await heartbeat.stop();
    },
  };
}
