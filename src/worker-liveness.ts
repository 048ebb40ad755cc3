import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import { logger } from './lib/logger.js';

export interface Liveness {
  /** = workerEvents: pass to graphile-worker's `run({events})` so its pool id is recorded. */
  events: EventEmitter;
  /** Writes this process's heartbeat and frees the jobs of dead workers (also runs on a timer). */
  tick(): Promise<string[]>;
  stop(): Promise<void>;
}

const seconds = (ms: number) => ms / 1000;

/**
 * graphile-worker events of this process. Every `run()` in the worker role passes `events: workerEvents`, so the
 * liveness heartbeat covers every runner's pool (a runner left out would see its jobs freed while it holds them).
 */
export const workerEvents = new EventEmitter();

/**
 * graphile-worker 0.17 frees the jobs of a worker that died holding them (SIGKILL, OOM, a lost node) only after
 * its 4-hour lock timeout, so effects would wait hours. Each worker process writes a heartbeat for its worker ids
 * every few seconds; every worker process frees the jobs locked by worker ids that have no recent heartbeat
 * (graphile_worker.force_unlock_workers), so another worker retries them within `deadAfterMs`. A job whose worker
 * only stalled is run twice: outbound messages carry stable ids, so receivers de-duplicate.
 */
export function startLiveness(db: Knex, deadAfterMs: number): Liveness {
  const events = workerEvents;
  const ids = new Set<string>();
  // graphile-worker 0.17 locks jobs in the name of the worker pool (locked_by = pool id); worker ids are kept too.
  const onPool = ({ workerPool }: { workerPool: { id: string } }) => ids.add(workerPool.id);
  const onWorker = ({ worker }: { worker: { workerId: string } }) => ids.add(worker.workerId);
  events.on('pool:create', onPool);
  events.on('worker:create', onWorker);
  let stopped = false;
  let running: Promise<string[]> | undefined;

  async function beat(): Promise<string[]> {
    if (ids.size) {
      await db.raw(
        `insert into worker_heartbeats (worker_id, pid, seen_at) select unnest(?::text[]), ?, now()
         on conflict (worker_id) do update set seen_at = excluded.seen_at`,
        [[...ids], process.pid],
      );
    }
    const { rows } = await db.raw(
      `select locked_by from graphile_worker._private_jobs where locked_by is not null and locked_at < now() - make_interval(secs => ?)
       union
       select locked_by from graphile_worker._private_job_queues where locked_by is not null and locked_at < now() - make_interval(secs => ?)
       except
       select worker_id from worker_heartbeats where seen_at > now() - make_interval(secs => ?)
       except
       select unnest(?::text[]) -- never our own: a late heartbeat of this process is not a death
      `,
      [seconds(deadAfterMs), seconds(deadAfterMs), seconds(deadAfterMs), [...ids]],
    );
    const dead = (rows as { locked_by: string }[]).map((r) => r.locked_by);
    if (dead.length) {
      await db.raw('select graphile_worker.force_unlock_workers(?::text[])', [dead]);
      logger.warn({ workers: dead }, 'freed the jobs of workers without a heartbeat');
    }
    await db.raw(`delete from worker_heartbeats where seen_at < now() - interval '1 day'`);
    return dead;
  }

  const tick = () => {
    running ??= beat().finally(() => { running = undefined; });
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) tick().catch((err) => logger.debug({ err }, 'worker heartbeat failed'));
  }, Math.max(100, Math.min(5000, deadAfterMs / 4)));
  timer.unref();

  return {
    events,
    tick,
    async stop() {
      stopped = true;
      events.off('pool:create', onPool);
      events.off('worker:create', onWorker);
      clearInterval(timer);
      await running?.catch(() => undefined);
      if (ids.size) await db.raw('delete from worker_heartbeats where worker_id = any(?::text[])', [[...ids]]).catch(() => undefined);
    },
  };
}
