import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { WorkerEvents } from 'graphile-worker';
import type { Db } from '../db/types.js';
import { logger } from '../lib/logger.js';

export interface HeartbeatOptions {
  /** How often this process refreshes its heartbeat and looks for dead workers (ms). */
  intervalMs: number;
  /** A worker whose heartbeat is older than this is dead: its jobs are unlocked (ms). Several intervals. */
  staleAfterMs: number;
  /** What the runner is, for the row (e.g. "outbound", "main"). */
  role: string;
}

export const defaultHeartbeatOptions: Omit<HeartbeatOptions, 'role'> = { intervalMs: 5_000, staleAfterMs: 30_000 };

/** The process's settings: stale after WORKER_DEAD_AFTER_MS, a beat at least six times per that window. */
export function heartbeatOptions(ctx: { config: { WORKER_DEAD_AFTER_MS: number } }, role: string): HeartbeatOptions {
  const staleAfterMs = ctx.config.WORKER_DEAD_AFTER_MS;
  return { staleAfterMs, intervalMs: Math.max(100, Math.min(defaultHeartbeatOptions.intervalMs, Math.floor(staleAfterMs / 6))), role };
}

export interface Heartbeat {
  /** Pass to graphile-worker's run({ events }): each worker pool it creates is registered here. */
  events: WorkerEvents;
  /** Stops the heartbeat and removes this process's rows (after a graceful stop its jobs are already released). */
  stop(): Promise<void>;
}

/**
 * Crash recovery for graphile-worker 0.17. A pool locks the jobs it takes (and its local queue) with its pool id
 * and frees them only on a graceful stop; a SIGKILLed process leaves them locked until the 4 h lock timeout. Each
 * runner records its pool id in worker_heartbeats and refreshes it every intervalMs; every runner, on start and on
 * each tick, unlocks the jobs of pools whose heartbeat is older than staleAfterMs and removes their rows.
 * Times are PostgreSQL's now() on both sides, so clocks of different worker hosts never disagree.
 */
/**
 * Every pool of this process, whichever runner it belongs to: a sweep never unlocks them. A late heartbeat of this
 * process (a stalled event loop, a busy connection pool) is not a death; unlocking our own running jobs would run
 * them twice.
 */
const ownPools = new Set<string>();

export function startHeartbeat(db: Db, opts: HeartbeatOptions): Heartbeat {
  const events: WorkerEvents = new EventEmitter() as WorkerEvents;
  const ids = new Set<string>();
  let pending: Promise<unknown> = Promise.resolve();
  const chain = (work: () => Promise<unknown>) => {
    pending = pending.then(work).catch((err) => logger.warn({ err, role: opts.role }, 'worker heartbeat failed'));
    return pending;
  };

  events.on('pool:create', ({ workerPool }) => {
    ids.add(workerPool.id);
    ownPools.add(workerPool.id);
    void chain(() => registerWorker(db, workerPool.id, opts.role));
  });
  events.on('pool:release', ({ workerPool }) => {
    ids.delete(workerPool.id);
    ownPools.delete(workerPool.id);
    void chain(() => removeWorkers(db, [workerPool.id]));
  });

  const tick = () => chain(async () => {
    if (ids.size) await beat(db, [...ids], opts.role);
    const unlocked = await unlockDeadWorkers(db, opts.staleAfterMs, [...ownPools]);
    if (unlocked.length) logger.warn({ workers: unlocked, role: opts.role }, 'unlocked the jobs of dead workers');
  });
  void tick(); // on start
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();

  return {
    events,
    async stop() {
      clearInterval(timer);
      const mine = [...ids];
      ids.clear();
      for (const id of mine) ownPools.delete(id);
      await chain(() => removeWorkers(db, mine));
    },
  };
}

// ---- SQL (not tenant data: no workspace_id) ----

async function registerWorker(db: Db, workerId: string, role: string): Promise<void> {
  await db.raw(
    `insert into worker_heartbeats (worker_id, role, host, pid) values (?, ?, ?, ?)
     on conflict (worker_id) do update set heartbeat_at = now()`,
    [workerId, role, os.hostname(), process.pid],
  );
}

/** An upsert: if another process's sweep removed our row while we were late, we are back on the next beat. */
async function beat(db: Db, workerIds: string[], role: string): Promise<void> {
  await db.raw(
    `insert into worker_heartbeats (worker_id, role, host, pid) select unnest(?::text[]), ?, ?, ?
     on conflict (worker_id) do update set heartbeat_at = now()`,
    [workerIds, role, os.hostname(), process.pid],
  );
}

async function removeWorkers(db: Db, workerIds: string[]): Promise<void> {
  if (workerIds.length) await db.raw(`delete from worker_heartbeats where worker_id = any(?::text[])`, [workerIds]);
}

/**
 * Removes the rows of workers whose heartbeat is older than staleAfterMs and unlocks their jobs and job queues, in
 * one statement (graphile_worker.force_unlock_workers is what WorkerUtils.forceUnlockWorkers runs; calling it here
 * makes the unlock and the row removal atomic, and needs no second connection pool). Several runners may sweep at
 * once: `for update skip locked` gives each dead worker to one of them. Returns the ids unlocked.
 */
export async function unlockDeadWorkers(db: Db, staleAfterMs: number, exceptOwn: string[] = []): Promise<string[]> {
  const { rows } = await db.raw(
    `with dead as (
       select worker_id from worker_heartbeats
        where heartbeat_at < now() - make_interval(secs => ?::double precision / 1000)
          and worker_id <> all(?::text[])
        for update skip locked
     ), removed as (
       delete from worker_heartbeats h using dead where h.worker_id = dead.worker_id returning h.worker_id
     ), ids as (select coalesce(array_agg(worker_id), '{}') as ids from removed)
     select ids.ids, graphile_worker.force_unlock_workers(ids.ids) as unlocked
       from ids where cardinality(ids.ids) > 0`,
    [staleAfterMs, exceptOwn],
  );
  return rows[0]?.ids ?? [];
}
