import { run, type Runner } from 'graphile-worker';
import type { AppContext } from '../http/context.js';
import { logger } from '../lib/logger.js';
import { outboundTasks } from './tasks.js';
import { workerEvents } from '../worker-liveness.js';

/**
 * The outbound tasks get a graphile-worker runner of their own in the worker role. Their jobs are I/O-bound and
 * wait a few ms to share a batch, so they need many at once (a batch holds at most as many push jobs as run
 * concurrently: with the shared runner's WORKER_CONCURRENCY=4 the bench pushed 11 responses/s), and fetching and
 * completing jobs in batches (localQueue, completeJobBatchDelay). A runner of its own also keeps a slow webhook
 * from taking the slots of other areas' jobs. Trade-off of the local queue: after a crash (not a graceful stop) the
 * up to OUTBOUND_LOCAL_QUEUE jobs it held wait, like the running ones, until the worker heartbeat declares the
 * process dead (WORKER_DEAD_AFTER_MS, src/worker-liveness.ts) instead of graphile-worker's 4 h lock timeout.
 */
export const OUTBOUND_CONCURRENCY = 500;
export const OUTBOUND_LOCAL_QUEUE = 200;

/** The connection string knex was created with (createDb): graphile-worker opens its own pool on it. */
function connectionStringOf(ctx: AppContext): string {
  const connection = ctx.db.client.config.connection as { connectionString?: string } | string;
  const url = typeof connection === 'string' ? connection : connection?.connectionString;
  if (!url) throw new Error('outbound runner: no connection string on the database client');
  return url;
}

export function outboundRunner(ctx: AppContext) {
  const outbound = outboundTasks(ctx);
  const started: Promise<Runner | undefined> = run({
    connectionString: connectionStringOf(ctx),
    concurrency: OUTBOUND_CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: outbound.tasks,
    preset: { worker: { localQueue: { size: OUTBOUND_LOCAL_QUEUE }, completeJobBatchDelay: 10, failJobBatchDelay: 10 } },
    events: workerEvents, // the worker heartbeat (src/worker-liveness.ts) covers this runner's pool
  }).catch((err) => {
    logger.error({ err }, 'outbound runner failed to start');
    return undefined;
  });
  return {
    async stop() {
      const runner = await started;
      await runner?.stop();
      await outbound.close();
    },
  };
}
