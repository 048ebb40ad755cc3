import { run, parseCronItems, type Runner, type TaskList, type CronItem } from 'graphile-worker';
import type { AppContext } from './http/context.js';
import { logger } from './lib/logger.js';
import { workerTasks, cronItems, backgroundLoops } from './worker-registry.js';
import { startLiveness } from './worker-liveness.js';

export interface WorkerHandle { stop(): Promise<void> }

/** The worker role: graphile-worker (outbox jobs and cron) plus the background loops (incremental evaluator). */
export async function startWorker(ctx: AppContext, connectionString: string): Promise<WorkerHandle> {
  const taskList: TaskList = workerTasks(ctx);
  const crons: CronItem[] = cronItems();
  const liveness = startLiveness(ctx.db, ctx.config.WORKER_DEAD_AFTER_MS);
  const runner: Runner = await run({
    connectionString,
    concurrency: ctx.config.WORKER_CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList,
    parsedCronItems: parseCronItems(crons),
    logger: undefined,
    events: liveness.events,
  });
  await liveness.tick().catch((err) => logger.warn({ err }, 'worker heartbeat failed'));
  const loops = backgroundLoops.map((start) => start(ctx));
  logger.info({ tasks: Object.keys(taskList), loops: loops.length }, 'worker started');
  return {
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
      await runner.stop();
      await liveness.stop();
    },
  };
}
