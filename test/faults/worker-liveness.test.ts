import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { addJob } from '../../src/outbound/queue.js';
import { startLiveness } from '../../src/worker-liveness.js';

/**
 * A worker that dies holding jobs (SIGKILL, OOM) must not delay them by graphile-worker's 4-hour lock timeout:
 * jobs locked by a worker id without a recent heartbeat are freed; a live worker's jobs are left alone.
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

describe('worker liveness', () => {
  it('frees the jobs of dead workers only', async () => {
    const db = gw.database.db;
    for (const n of [1, 2, 3, 4]) await addJob(db, 'test.effect', { n });
    await lockJob(1, 'worker-dead', 30); // died 30 s ago, no heartbeat
    await lockJob(2, 'worker-alive', 30); // long job, worker still beating
    await lockJob(3, 'worker-just-started', 0); // locked a moment ago: within the grace period
    await lockJob(4, 'worker-stale', 30); // heartbeat too old
    await db.raw(`insert into worker_heartbeats (worker_id, seen_at) values ('worker-alive', now()), ('worker-stale', now() - interval '20 seconds')`);

    const liveness = startLiveness(db, 5000);
    try {
      const freed = await liveness.tick();
      expect(freed.sort()).toEqual(['worker-dead', 'worker-stale']);
    } finally {
      await liveness.stop();
    }
    expect(await lockOf(1)).toBeNull();
    expect(await lockOf(2)).toBe('worker-alive');
    expect(await lockOf(3)).toBe('worker-just-started');
    expect(await lockOf(4)).toBeNull();
    // Freed jobs are runnable again: not failed, attempts unchanged.
    const { rows } = await db.raw(`select count(*)::int as n from graphile_worker.jobs where locked_by is null and attempts = 0 and task_identifier = 'test.effect'`);
    expect(rows[0].n).toBe(2);
  });

  it('records the heartbeat of the worker ids it is told about and removes them on stop', async () => {
    const db = gw.database.db;
    const liveness = startLiveness(db, 5000);
    liveness.events.emit('pool:create', { workerPool: { id: 'worker-mine-1' } }); // jobs are locked by the pool id
    liveness.events.emit('worker:create', { worker: { workerId: 'worker-mine-2' } });
    // Our own ids are never freed, even when our heartbeat is late (a stalled event loop, a busy pool).
    await addJob(db, 'test.effect', { n: 5 });
    await lockJob(5, 'worker-mine-1', 30);
    await db('worker_heartbeats').where({ worker_id: 'worker-mine-1' }).delete();
    expect(await liveness.tick()).not.toContain('worker-mine-1');
    expect(await lockOf(5)).toBe('worker-mine-1');
    expect((await db('worker_heartbeats').whereIn('worker_id', ['worker-mine-1', 'worker-mine-2'])).length).toBe(2);
    await liveness.stop();
    expect((await db('worker_heartbeats').whereIn('worker_id', ['worker-mine-1', 'worker-mine-2'])).length).toBe(0);
  });
});
