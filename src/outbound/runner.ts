import { run, Logger as GraphileLogger, type Runner } from 'graphile-worker';
import type { AppContext } from '../http/context.js';
import { logger } from '../lib/logger.js';
import { heartbeatOptions, startHeartbeat, type HeartbeatOptions } from './heartbeat.js';
import { outboundTasks, type OutboundOptions } from './tasks.js';

/**
 * The outbound tasks get a graphile-worker runner of their own in the worker role. Their jobs are I/O-bound and
 * wait a few ms to share a batch, so they need many at once (a batch holds at most as many push jobs as run
 * concurrently: with the shared runner's WORKER_CONCURRENCY=4 the bench pushed 11 responses/s), and fetching and
 * completing jobs in batches (localQueue, completeJobBatchDelay). A runner of its own also keeps a slow webhook
 * from taking the slots of other areas' jobs. After a crash (not a graceful stop) the jobs it held, running or in the
 * local queue, are unlocked by the other workers' heartbeat sweep once its heartbeat is stale (src/outbound/heartbeat.ts),
 * instead of waiting for graphile-worker's 4 h lock timeout.
 * 1000 at once = four batches of 250 push jobs in flight, so one batch's CPU work fills the others' waits (round 3 of
 * docs/outbound.md: faster than 500 in 5 of 6 interleaved bench pairs, same CPU per response).
 */
export const OUTBOUND_CONCURRENCY = 1000;
export const OUTBOUND_LOCAL_QUEUE = 1000;

export interface OutboundRunnerOptions {
  concurrency: number;
  /** Jobs fetched per query into the local queue (0 = no local queue). graphile-worker wants it ≥ concurrency. */
  localQueue: number;
  heartbeat: Partial<Omit<HeartbeatOptions, 'role'>>;
  tasks: Partial<OutboundOptions>;
}

/**
 * graphile-worker's own messages, through pino; its per-job info/debug lines ("Completed task …", one per job: at
 * thousands of jobs/s a console write each) are dropped, warnings and errors kept.
 */
const graphileLogger = new GraphileLogger((scope) => (level, message, meta) => {
  if (level === 'error') logger.error({ ...scope, ...meta }, message);
  else if (level === 'warning') logger.warn({ ...scope, ...meta }, message);
});

/** The connection string knex was created with (createDb): graphile-worker opens its own pool on it. */
function connectionStringOf(ctx: AppContext): string {
  const connection = ctx.db.client.config.connection as { connectionString?: string } | string;
  const url = typeof connection === 'string' ? connection : connection?.connectionString;
  if (!url) throw new Error('outbound runner: no connection string on the database client');
  return url;
}

export function outboundRunner(ctx: AppContext, options: Partial<OutboundRunnerOptions> = {}) {
  const { concurrency = OUTBOUND_CONCURRENCY, localQueue = OUTBOUND_LOCAL_QUEUE } = options;
  const outbound = outboundTasks(ctx, options.tasks);
  const heartbeat = startHeartbeat(ctx.db, { ...heartbeatOptions(ctx, 'outbound'), ...options.heartbeat });
  const started: Promise<Runner | undefined> = run({
    connectionString: connectionStringOf(ctx),
    concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: outbound.tasks,
    events: heartbeat.events,
    logger: graphileLogger,
    preset: { worker: localQueue > 0 ? { localQueue: { size: localQueue }, completeJobBatchDelay: 10, failJobBatchDelay: 10 } : {} },
  }).catch((err) => {
    logger.error({ err }, 'outbound runner failed to start');
    return undefined;
  });
  return {
    started,
    clients: outbound.clients,
    async stop() {
      const runner = await started;
      await runner?.stop();
      await heartbeat.stop();
      await outbound.close();
    },
  };
}
