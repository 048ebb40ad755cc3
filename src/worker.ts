import { run, parseCronItems, Logger as WorkerLogger, type Runner, type TaskList, type CronItem } from 'graphile-worker';
import type { AppContext } from './http/context.js';
import { logger } from './lib/logger.js';
import { workerTasks, cronItems, backgroundLoops } from './worker-registry.js';
import { startLiveness } from './worker-liveness.js';

export interface WorkerHandle { stop(): Promise<void> }

/** graphile-worker's own messages go to the structured log (its default writes plain text to the console). */
const workerLogger = new WorkerLogger((scope) => (level, message) => {
  const entry = { component: 'graphile-worker', ...scope };
  if (level === 'error') logger.error(entry, message);
  else if (level === 'warning') logger.warn(entry, message);
  else if (level === 'info') logger.info(entry, message);
  else logger.debug(entry, message);
});

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
    logger: workerLogger,
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
