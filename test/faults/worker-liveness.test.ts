import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { addJob } from '../../src/outbound/queue.js';
import { startHeartbeat, unlockDeadWorkers } from '../../src/outbound/heartbeat.js';

/**
 * A worker that dies holding jobs (SIGKILL, OOM) must not delay them by graphile-worker's 4-hour lock timeout:
 * the jobs of pools whose heartbeat is stale are unlocked; a live pool's are left alone, and a process never
 * unlocks its own pools even when its own heartbeat is late.
 */
const gw = useGateway();

async function lockJob(n: number, workerId: string, secondsAgo: number) {
  await gw.database.db.raw(
    `update graphile_worker._private_jobs set locked_by = ?, locked_at = now() - make_interval(secs => ?) where payload->>'n' = ?`,
    [workerId, secondsAgo, String(n)],
  );
}
async function lockOf(n: number) {
  const { rows } = await gw.database.db.raw(`select locked_by from graphile_worker._private_jobs where payload->>'n' = ?`, [String(n)]);
  return rows[0]?.locked_by ?? null;
}
const heartbeat = (id: string, secondsAgo: number) => gw.database.db.raw(
  `insert into worker_heartbeats (worker_id, role, host, pid, heartbeat_at) values (?, 'test', 'h', 1, now() - make_interval(secs => ?))
   on conflict (worker_id) do update set heartbeat_at = excluded.heartbeat_at`, [id, secondsAgo]);

describe('worker liveness (heartbeats)', () => {
  it('unlocks the jobs of stale pools only', async () => {
    const db = gw.database.db;
    for (const n of [1, 2, 3]) await addJob(db, 'test.effect', { n });
    await lockJob(1, 'pool-dead', 60);
    await lockJob(2, 'pool-alive', 60); // a long job of a live pool
    await lockJob(3, 'pool-mine', 60); // our own pool, heartbeat late
    await heartbeat('pool-dead', 40);
    await heartbeat('pool-alive', 1);
    await heartbeat('pool-mine', 40);
    const unlocked = await unlockDeadWorkers(db, 30_000, ['pool-mine']);
    expect(unlocked).toEqual(['pool-dead']);
    expect(await lockOf(1)).toBeNull();
    expect(await lockOf(2)).toBe('pool-alive');
    expect(await lockOf(3)).toBe('pool-mine');
    const { rows } = await db.raw(`select count(*)::int as n from graphile_worker.jobs where locked_by is null and attempts = 0 and task_identifier = 'test.effect'`);
    expect(rows[0].n).toBe(1); // freed, runnable again, not failed
  });

  it('a running heartbeat never unlocks its own pool and re-registers a row another sweep removed', async () => {
    const db = gw.database.db;
    const hb = startHeartbeat(db, { intervalMs: 50, staleAfterMs: 1000, role: 'test' });
    try {
      hb.events.emit('pool:create', { workerPool: { id: 'pool-self' } } as never);
      await addJob(db, 'test.effect', { n: 9 });
      await lockJob(9, 'pool-self', 60);
      await heartbeat('pool-self', 3600); // as if this process had stalled for an hour
      await new Promise((r) => setTimeout(r, 300)); // several ticks
      expect(await lockOf(9)).toBe('pool-self');
      await db('worker_heartbeats').where({ worker_id: 'pool-self' }).delete(); // another process's sweep removed it
      await new Promise((r) => setTimeout(r, 300));
      expect(await db('worker_heartbeats').where({ worker_id: 'pool-self' }).first()).toBeTruthy();
    } finally {
      await hb.stop();
    }
    expect(await db('worker_heartbeats').where({ worker_id: 'pool-self' }).first()).toBeUndefined();
  });
});
