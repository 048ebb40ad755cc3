import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { addJob } from '../../src/outbound/queue.js';
import { redirectLogs } from '../../src/lib/logger.js';

/** /metrics in Prometheus text format, and structured request logs with request ids. */
const gw = useGateway();
let ws: { id: string; ingestKey: string };

/** Parses the Prometheus text format into `name{labels}` → value. */
async function scrape(): Promise<Map<string, number>> {
  const res = await gw.http.get('/metrics').expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const out = new Map<string, number>();
  for (const line of res.text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}
const get = (m: Map<string, number>, k: string) => m.get(k) ?? 0;

beforeAll(async () => {
  ws = await gw.createWorkspace('Metrics');
});

describe('/metrics', () => {
  it('counts ingest by type and outcome, and group-commit batch sizes', async () => {
    const before = await scrape();
    await gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({ batch: [
      { type: 'identify', userId: 'm1', messageId: 'mx-1' },
      { type: 'identify', userId: 'm2' },
      { type: 'track', userId: 'm1', event: 'E' },
      { type: 'page', userId: 'm1' },
      { type: 'track', userId: 'm1' }, // invalid: no event
      { type: [{ toString: '' }], userId: 'm1' }, // hostile type: counted as "other"
    ] }).expect(200);
    await gw.http.post('/v1/identify').auth(ws.ingestKey, '').send({ userId: 'm1', messageId: 'mx-1' }).expect(200); // duplicate
    const after = await scrape();
    const delta = (k: string) => get(after, k) - get(before, k);
    expect(delta('ag_ingest_messages_total{type="identify",outcome="accepted"}')).toBe(2);
    expect(delta('ag_ingest_messages_total{type="identify",outcome="duplicate"}')).toBe(1);
    expect(delta('ag_ingest_messages_total{type="track",outcome="accepted"}')).toBe(1);
    expect(delta('ag_ingest_messages_total{type="track",outcome="invalid"}')).toBe(1);
    expect(delta('ag_ingest_messages_total{type="page",outcome="not_supported"}')).toBe(1);
    expect(delta('ag_ingest_messages_total{type="other",outcome="invalid"}')).toBe(1);
    expect(delta('ag_group_commit_messages_count')).toBe(2); // two commits
    expect(delta('ag_group_commit_messages_sum')).toBe(4); // of 3 + 1 messages
  });

  it('reports the dirty-user queue and the outbox by task and state', async () => {
    const db = gw.database.db;
    const dirty = Number((await db('dirty_users').count({ n: '*' }))[0].n);
    expect(dirty).toBeGreaterThan(0); // ingest above marked users dirty (no evaluator runs in this test)
    await addJob(db, 'test.deliver', { n: 1 });
    await addJob(db, 'test.deliver', { n: 2 });
    await addJob(db, 'test.other', { n: 3 });
    await db.raw(`update graphile_worker._private_jobs set attempts = max_attempts, last_error = 'HTTP 500' where payload->>'n' = '2'`);
    const m = await scrape();
    expect(get(m, 'ag_dirty_users')).toBe(dirty);
    expect(get(m, 'ag_dirty_oldest_seconds')).toBeGreaterThanOrEqual(0);
    expect(get(m, 'ag_outbox_jobs{task="test.deliver",state="queued"}')).toBe(1);
    expect(get(m, 'ag_outbox_jobs{task="test.deliver",state="dead"}')).toBe(1);
    expect(get(m, 'ag_outbox_jobs{task="test.other",state="queued"}')).toBe(1);
    expect(get(m, 'ag_outbox_failing_jobs{task="test.deliver"}')).toBe(1);
    expect(m.has('ag_outbox_failing_jobs{task="test.other"}')).toBe(false);
    // Series other areas feed (evaluations, deliveries) are exported with their help text.
    const text = (await gw.http.get('/metrics')).text;
    for (const name of ['ag_segment_evaluation_seconds', 'ag_outbound_deliveries_total', 'process_cpu_seconds_total']) {
      expect(text).toContain(`# HELP ${name}`);
    }
  });
});

describe('request ids and request logs', () => {
  const lines: string[] = [];
  let restore: () => void;
  beforeAll(() => { restore = redirectLogs({ write: (l: string) => lines.push(l) }, 'debug'); });
  afterAll(() => restore?.());

  it('echoes a caller request id, makes one otherwise, and logs one JSON line per request', async () => {
    const given = await gw.http.get('/healthz').set('x-request-id', 'lb-trace.42:abc').expect(200);
    expect(given.headers['x-request-id']).toBe('lb-trace.42:abc');
    const made = await gw.http.get('/healthz').expect(200);
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const odd = await gw.http.get('/healthz').set('x-request-id', `x${'y'.repeat(300)}`).expect(200);
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/); // an unusable id is replaced
    await gw.http.post('/v1/track').auth(ws.ingestKey, '').set('x-request-id', 'seg-1').send({ userId: 'u' }).expect(400);
    await gw.api.get(`/api/workspaces/${ws.id}/users/nobody?token=should-not-be-logged`).set('x-request-id', 'api-404').expect(404);

    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.msg === 'request');
    const byId = new Map(entries.map((e) => [e.requestId, e]));
    expect(byId.get('lb-trace.42:abc')).toMatchObject({ method: 'GET', path: '/healthz', status: 200, level: 30 });
    expect(typeof byId.get('lb-trace.42:abc')!.durationMs).toBe('number');
    expect(byId.get(made.headers['x-request-id'])).toBeTruthy();
    expect(byId.get('seg-1')).toMatchObject({ method: 'POST', path: '/v1/track', status: 400, level: 40, workspaceId: ws.id });
    expect(byId.get('api-404')).toMatchObject({ path: `/api/workspaces/${ws.id}/users/nobody`, status: 404 });
    expect(lines.join('')).not.toContain('should-not-be-logged');
  });
});
