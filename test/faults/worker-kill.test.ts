import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { ADMIN, adminPost, spawnGateway, waitFor, type GatewayProcess } from './support.js';
import { addJobs } from '../../src/outbound/queue.js';

/**
 * A worker process killed (SIGKILL) in the middle of webhook deliveries. After a new worker starts, every
 * "entered" effect reaches the receiver, which can de-duplicate repeats by their webhook-id, and no job is left
 * behind (the dead worker's locks are freed by the heartbeat check, not after graphile-worker's 4 h timeout).
 * When the segment engine is mounted, the effects come from incremental evaluation of real ingest (and the test
 * also checks that no dirty user is left and membership equals a full evaluation); otherwise they are enqueued as
 * the segment engine would (task segment.membership, the cross-area contract).
 */
let database: TestDatabase;
const procs: GatewayProcess[] = [];
let receiver: http.Server;
let receiverUrl = '';
const received: { id: string; userId: string; type: string }[] = [];
/** Receiver delay per request; raised after the kill above WORKER_DEAD_AFTER_MS for a few deliveries. */
let delayMs = 150;
let slowLeft = 0;

beforeAll(async () => {
  database = await freshDatabase();
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const json = JSON.parse(body) as { type: string; user: { userId: string } };
      received.push({ id: String(req.headers['webhook-id']), userId: json.user.userId, type: json.type });
      // A slow receiver: deliveries are in flight when the worker dies. After the kill a few take longer than
      // WORKER_DEAD_AFTER_MS, so a live worker's held jobs would be freed (and sent twice) if its heartbeat were wrong.
      const wait = slowLeft > 0 ? (slowLeft--, 4000) : delayMs;
      setTimeout(() => res.end('ok'), wait);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
}, 60_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
  await database?.drop();
});

const env = () => ({ DATABASE_URL: database.url, WORKER_DEAD_AFTER_MS: '3000', EVALUATOR_INTERVAL_MS: '20', WORKER_CONCURRENCY: '4' });
const worker = async () => {
  const p = await spawnGateway({ ...env(), ROLE: 'worker' }, { waitFor: /"worker started"/ });
  procs.push(p);
  return p;
};

async function identify(api: string, key: string, from: number, to: number) {
  const batch = [];
  for (let i = from; i < to; i++) batch.push({ type: 'identify', userId: `u${i}`, traits: { plan: 'pro' }, messageId: `id-${i}` });
  for (let i = 0; i < batch.length; i += 25) {
    const res = await fetch(`${api}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` },
      body: JSON.stringify({ batch: batch.slice(i, i + 25) }),
    });
    expect(res.status).toBe(200);
  }
}

describe('worker SIGKILL mid evaluation and delivery', () => {
  it('a new worker finishes the evaluation and delivers every effect once per id', async () => {
    const [api, w1] = await Promise.all([spawnGateway({ ...env(), ROLE: 'api' }), worker()]);
    procs.push(api);
    const db = database.db;
    const ws = await adminPost(api.url, '/api/workspaces', { name: 'Kill' }) as { id: string; ingestKey: string };
    const probe = await fetch(`${api.url}/api/workspaces/${ws.id}/segments`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const engine = probe.status === 200;
    let seg: { id: string };
    if (engine) {
      seg = await adminPost(api.url, `/api/workspaces/${ws.id}/segments`, { name: 'Pro', type: 'dynamic', definition: { trait: 'plan', op: 'eq', value: 'pro' } }) as { id: string };
      const patched = await fetch(`${api.url}/api/workspaces/${ws.id}/segments/${seg.id}`, {
        method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ status: 'active' }),
      });
      expect(patched.status).toBe(200);
    } else {
      [seg] = await db('segments').insert({ workspace_id: ws.id, name: 'Pro', type: 'dynamic', status: 'active', definition: { trait: 'plan', op: 'eq', value: 'pro' } }).returning('id');
    }
    /** Without the engine: what incremental evaluation writes for users who entered (log rows + effect jobs). */
    const enter = async (from: number, to: number) => {
      if (engine) return;
      const rows = Array.from({ length: to - from }, (_, k) => ({ workspace_id: ws.id, segment_id: seg.id, user_id: `u${from + k}`, change: 'entered', cause: 'incremental' }));
      const logs = await db('membership_log').insert(rows).returning(['id', 'user_id', 'at']) as { id: number; user_id: string; at: Date }[];
      await addJobs(db, 'segment.membership', logs.map((l) => ({ workspaceId: ws.id, segmentId: seg.id, userId: l.user_id, change: 'entered', at: l.at.toISOString(), logId: l.id })));
    };
    await adminPost(api.url, `/api/workspaces/${ws.id}/webhooks`, { url: receiverUrl, segmentIds: [seg.id], events: ['segment.entered'] });

    const N = 300;
    await identify(api.url, ws.ingestKey, 0, 200);
    await enter(0, 200);
    await waitFor('deliveries in flight', async () => received.length >= 10, 30_000, 20);
    w1.child.kill('SIGKILL');
    await w1.exited;
    const idsBeforeKill = new Set(received.map((r) => r.id));
    slowLeft = 8;
    const atKill = { received: received.length, dirty: Number((await db('dirty_users').where({ workspace_id: ws.id }).count({ n: '*' }))[0].n) };
    await identify(api.url, ws.ingestKey, 200, N); // arrives while no worker runs
    await enter(200, N);

    await worker();
    const distinctUsers = () => new Set(received.filter((r) => r.type === 'segment.entered').map((r) => r.userId)).size;
    await waitFor('every effect delivered', async () => distinctUsers() >= N, 60_000, 100);
    await waitFor('queues empty', async () => {
      const dirty = engine ? Number((await db('dirty_users').where({ workspace_id: ws.id }).count({ n: '*' }))[0].n) : 0;
      const { rows } = await db.raw(`select count(*)::int as n from graphile_worker.jobs where task_identifier <> 'segment.schedule-tick'`);
      return dirty === 0 && rows[0].n === 0;
    }, 30_000, 100);

    if (engine) {
      // Membership is complete and agrees with a full evaluation (which finds nothing to change).
      expect(Number((await db('segment_members').where({ workspace_id: ws.id, segment_id: seg.id }).count({ n: '*' }))[0].n)).toBe(N);
      const full = await adminPost(api.url, `/api/workspaces/${ws.id}/segments/${seg.id}/evaluate`, {});
      expect(full).toMatchObject({ size: N, entered: 0, exited: 0 });
    }
    // Each user entered once in the log (no evaluation applied twice).
    const { rows: logs } = await db.raw(
      `select user_id, count(*)::int as n from membership_log where workspace_id = ? and segment_id = ? and change = 'entered' group by 1`, [ws.id, seg.id]);
    expect(logs.length).toBe(N);
    expect(logs.every((r: { n: number }) => r.n === 1)).toBe(true);
    // The receiver de-duplicates by webhook-id: one id per user, repeats carry the same id and user.
    const byId = new Map<string, string>();
    for (const r of received) {
      if (byId.has(r.id)) expect(byId.get(r.id)).toBe(r.userId);
      byId.set(r.id, r.userId);
    }
    expect(byId.size).toBe(N);
    expect(new Set(byId.values()).size).toBe(N);
    // Repeats are only the deliveries the killed worker had started; the live worker never had its jobs taken away.
    const counts = new Map<string, number>();
    for (const r of received) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    const repeated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    expect(repeated.filter((id) => !idsBeforeKill.has(id))).toEqual([]);
    console.info(`[figures] worker-kill ${JSON.stringify({ engine, users: N, atKill, deliveries: received.length, distinctIds: byId.size, repeats: received.length - byId.size })}`);
  }, 120_000);
});
