import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { ADMIN, adminPost, loadGenerator, sendBatch, spawnGateway, summarize, waitFor, type GatewayProcess } from '../faults/support.js';

/**
 * Scaling out: two api processes and two worker processes against one PostgreSQL. Ingest is spread over
 * both APIs (and retries of the same messages land on the other API); no event is lost or doubled.
 */
let database: TestDatabase;
const procs: GatewayProcess[] = [];

beforeAll(async () => {
  database = await freshDatabase();
  const env = { DATABASE_URL: database.url, EVALUATOR_INTERVAL_MS: '20', WORKER_CONCURRENCY: '2', DB_POOL_MAX: '4' };
  procs.push(...await Promise.all([
    spawnGateway({ ...env, ROLE: 'api' }),
    spawnGateway({ ...env, ROLE: 'api' }),
    spawnGateway({ ...env, ROLE: 'worker' }, { waitFor: /"worker started"/ }),
    spawnGateway({ ...env, ROLE: 'worker' }, { waitFor: /"worker started"/ }),
  ]));
}, 120_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  await database?.drop();
});

describe('two api and two worker processes on one database', () => {
  it('stores every event sent through either API exactly once, retries across APIs included', async () => {
    const [api1, api2] = procs;
    const ws = await adminPost(api1.url, '/api/workspaces', { name: 'Scale' }) as { id: string; ingestKey: string };
    // The key created through one API works on the other at once (no per-process state).
    expect((await sendBatch(api2.url, ws.ingestKey, ['first-on-api2'])).status).toBe(200);

    const load = loadGenerator(() => [api1.url, api2.url], ws.ingestKey, { clients: 6, batch: 25 });
    await waitFor('ingest on both APIs', async () => summarize(load.sent).acked.length >= 1500, 60_000);
    const sent = await load.stop();
    // Segment retries: every batch once more, on the other API.
    const retries = await Promise.all(sent.filter((_, i) => i % 4 === 0).map((s, i) => sendBatch(i % 2 ? api1.url : api2.url, ws.ingestKey, s.ids)));

    const all = [...sent, ...retries];
    expect(all.filter((s) => s.status !== 200).map((s) => `${s.status} ${s.error}`)).toEqual([]);
    const ids = new Set(['first-on-api2', ...sent.flatMap((s) => s.ids)]);
    const db = database.db;
    const rows = await db('events').where({ workspace_id: ws.id }).pluck('message_id') as string[];
    expect(rows.length).toBe(ids.size);
    expect(new Set(rows)).toEqual(ids);
    const [{ n }] = await db('event_counts').where({ workspace_id: ws.id }).sum({ n: 'count' });
    expect(Number(n)).toBe(ids.size); // counters applied once per event, never per retry
    const byApi = { api1: sent.filter((s) => s.base === api1.url).length, api2: sent.filter((s) => s.base === api2.url).length };
    expect(byApi.api1).toBeGreaterThan(0);
    expect(byApi.api2).toBeGreaterThan(0);
    console.info(`[figures] scale-out ${JSON.stringify({ sent: summarize(all).messages + 1, distinct: ids.size, stored: rows.length, retried: summarize(retries).messages, requests: byApi })}`);
  }, 90_000);

  it('delivers every segment entry once when both workers evaluate and deliver', async () => {
    const [api1, api2] = procs;
    const received: { id: string; userId: string }[] = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ id: String(req.headers['webhook-id']), userId: JSON.parse(body).user.userId });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const ws = await adminPost(api1.url, '/api/workspaces', { name: 'Scale effects' }) as { id: string; ingestKey: string };
      const seg = await adminPost(api1.url, `/api/workspaces/${ws.id}/segments`, {
        name: 'Clickers', type: 'dynamic', definition: { event: 'Clicked', count: { op: 'gte', value: 1 } },
      }) as { id: string };
      const patched = await fetch(`${api2.url}/api/workspaces/${ws.id}/segments/${seg.id}`, {
        method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ status: 'active' }),
      });
      expect(patched.status).toBe(200);
      await adminPost(api2.url, `/api/workspaces/${ws.id}/webhooks`, {
        url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}`, segmentIds: [seg.id], events: ['segment.entered'],
      });

      // 50 users (trackMessages spreads them over user-0..user-49), their events through both APIs.
      const load = loadGenerator(() => [api1.url, api2.url], ws.ingestKey, { clients: 4, batch: 10 });
      await waitFor('ingest on both APIs', async () => summarize(load.sent).acked.length >= 400, 60_000);
      await load.stop();
      const users = 50;
      await waitFor('every entry delivered', async () => new Set(received.map((r) => r.userId)).size >= users, 60_000);
      await waitFor('queues empty', async () => {
        const { rows } = await database.db.raw(`select count(*)::int as n from graphile_worker.jobs where task_identifier <> 'segment.schedule-tick'`);
        const dirty = await database.db('dirty_users').where({ workspace_id: ws.id }).count({ n: '*' });
        return rows[0].n === 0 && Number(dirty[0].n) === 0;
      }, 30_000);

      const { rows: log } = await database.db.raw(
        `select user_id, count(*)::int as n from membership_log where workspace_id = ? and segment_id = ? and change = 'entered' group by 1`, [ws.id, seg.id]);
      expect(log.length).toBe(users);
      expect(log.every((r: { n: number }) => r.n === 1)).toBe(true); // no user evaluated into the segment twice
      // No crash here, so no repeat at all: one delivery per entry, each with its own webhook-id.
      expect(received.length).toBe(users);
      expect(new Set(received.map((r) => r.id)).size).toBe(users);
      console.info(`[figures] scale-out effects ${JSON.stringify({ users, deliveries: received.length })}`);
    } finally {
      await new Promise((r) => hook.close(r));
    }
  }, 120_000);
});
