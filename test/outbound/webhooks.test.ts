import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import { useGateway } from '../helpers/gateway.js';
import { addJob } from '../../src/outbound/queue.js';
import { receiver, type Receiver } from './receiver.js';
import { aMembershipChange, aSegment, aUser, makeJobsDue, pendingJobs, runJobs } from './factories.js';

const gw = useGateway();
let hooks: Receiver;

beforeAll(async () => { hooks = await receiver(); });
afterAll(async () => { await hooks.close(); });
beforeEach(() => { hooks.requests.length = 0; hooks.replies.length = 0; });

/**
 * Standard Webhooks verification written from the spec, independently of the sender's code: WebCrypto HMAC,
 * several space-separated signatures allowed, a 5-minute timestamp tolerance.
 */
async function verifyStandardWebhook(secret: string, headers: Record<string, unknown>, body: string): Promise<boolean> {
  const id = String(headers['webhook-id'] ?? '');
  const ts = String(headers['webhook-timestamp'] ?? '');
  const sigs = String(headers['webhook-signature'] ?? '').split(' ');
  if (!id || !/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const keyBytes = Uint8Array.from(atob(secret.slice('whsec_'.length)), (c) => c.charCodeAt(0));
  const key = await webcrypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await webcrypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${ts}.${body}`)));
  const expected = btoa(String.fromCharCode(...mac));
  return sigs.some((s) => s === `v1,${expected}`);
}

async function setup() {
  const ws = await gw.createWorkspace();
  const segment = await aSegment(gw.database.db, ws.id, 'Power Users');
  await aUser(gw.database.db, ws.id, 'ada', { name: 'Ada Lovelace', email: 'ada@example.com', plan: 'pro' });
  return { ws, segment };
}

const deliveries = (workspaceId: string) => gw.database.db('deliveries').where({ workspace_id: workspaceId }).orderBy('created_at');

describe('webhooks', () => {
  it('creates a webhook with a generated secret shown once, and lists it without the secret', async () => {
    const { ws, segment } = await setup();
    const res = await gw.api.post(`/api/workspaces/${ws.id}/webhooks`).send({ url: `${hooks.url}/hook`, segmentIds: [segment.id], events: ['segment.entered'] }).expect(201);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const row = await gw.database.db('webhooks').where({ id: res.body.id }).first();
    expect(row.secret_enc).not.toContain(res.body.secret.slice(6));
    const list = await gw.api.get(`/api/workspaces/${ws.id}/webhooks`).expect(200);
    expect(list.body.webhooks).toEqual([{ id: res.body.id, url: `${hooks.url}/hook`, segmentIds: [segment.id], events: ['segment.entered'], createdAt: expect.any(String) }]);
    await gw.api.post(`/api/workspaces/${ws.id}/webhooks`).send({ url: 'ftp://x', segmentIds: [segment.id] }).expect(400);
    await gw.api.post(`/api/workspaces/${ws.id}/webhooks`).send({ url: hooks.url, segmentIds: ['00000000-0000-4000-8000-000000000000'] }).expect(400);
    await gw.api.delete(`/api/workspaces/${ws.id}/webhooks/${res.body.id}`).expect(204);
    expect((await gw.api.get(`/api/workspaces/${ws.id}/webhooks`).expect(200)).body.webhooks).toEqual([]);
  });

  it('delivers a signed segment.entered event that an independent verifier accepts', async () => {
    const { ws, segment } = await setup();
    const secret = `whsec_${Buffer.from('0123456789abcdef01234567').toString('base64')}`;
    const hook = (await gw.api.post(`/api/workspaces/${ws.id}/webhooks`).send({ url: `${hooks.url}/hook`, segmentIds: [segment.id], events: ['segment.entered', 'segment.exited'], secret }).expect(201)).body;
    expect(hook.secret).toBe(secret);
    const change = await aMembershipChange(gw.database.db, ws.id, segment.id, 'ada', 'entered');
    await addJob(gw.database.db, 'segment.membership', change);
    await runJobs(gw);

    expect(hooks.requests).toHaveLength(1);
    const req = hooks.requests[0];
    expect(req.path).toBe('/hook');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.json).toEqual({
      type: 'segment.entered', workspaceId: ws.id, segment: { id: segment.id, name: 'Power Users' },
      user: { userId: 'ada', traits: { name: 'Ada Lovelace', email: 'ada@example.com', plan: 'pro' } }, at: '2026-11-20T12:00:00.000Z',
    });
    expect(await verifyStandardWebhook(secret, req.headers, req.body)).toBe(true);
    expect(await verifyStandardWebhook(secret, req.headers, req.body.replace('ada', 'eve'))).toBe(false);
    const [d] = await deliveries(ws.id);
    expect(req.headers['webhook-id']).toBe(d.id);
    expect(d).toMatchObject({ destination: 'webhook', destination_id: hook.id, message_key: `membership:${change.logId}`, status: 'delivered', attempts: 1, last_status_code: 200 });
  });

  it('retries with the same webhook-id and body, sends only subscribed events, and fans out once per log entry', async () => {
    const { ws, segment } = await setup();
    const hook = (await gw.api.post(`/api/workspaces/${ws.id}/webhooks`).send({ url: `${hooks.url}/hook`, segmentIds: [segment.id], events: ['segment.exited'] }).expect(201)).body;
    await addJob(gw.database.db, 'segment.membership', await aMembershipChange(gw.database.db, ws.id, segment.id, 'ada', 'entered'));
    const exited = await aMembershipChange(gw.database.db, ws.id, segment.id, 'ada', 'exited');
    await addJob(gw.database.db, 'segment.membership', exited);
    await addJob(gw.database.db, 'segment.membership', exited); // the same effect twice
    hooks.replies.push({ status: 503 }, 'hang');
    await runJobs(gw, { timeoutMs: 300 });
    expect(hooks.requests).toHaveLength(1);
    await makeJobsDue(gw.database.db);
    await runJobs(gw, { timeoutMs: 300 });
    const [d1] = await deliveries(ws.id);
    expect(d1).toMatchObject({ status: 'retrying', attempts: 2, last_status_code: null });
    expect(d1.last_error).toContain('No answer within 300 ms');
    await makeJobsDue(gw.database.db);
    await runJobs(gw);
    expect(hooks.requests).toHaveLength(3);
    expect(new Set(hooks.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([d1.id]));
    expect(new Set(hooks.requests.map((r) => r.body)).size).toBe(1);
    expect(hooks.requests[0].json.type).toBe('segment.exited');
    expect(await deliveries(ws.id)).toHaveLength(1);
    expect(await deliveries(ws.id)).toMatchObject([{ destination_id: hook.id, status: 'delivered', attempts: 3 }]);
  });

  it('a 4xx answer is dead at once; replay delivers it', async () => {
    const { ws, segment } = await setup();
    await gw.api.post(`/api/workspaces/${ws.id}/webhooks`).send({ url: `${hooks.url}/hook`, segmentIds: [segment.id] }).expect(201);
    hooks.replies.push({ status: 410, body: 'gone' });
    await addJob(gw.database.db, 'segment.membership', await aMembershipChange(gw.database.db, ws.id, segment.id, 'ada', 'entered'));
    await runJobs(gw);
    const dead = (await gw.api.get(`/api/workspaces/${ws.id}/deliveries?destination=webhook&status=dead`).expect(200)).body.deliveries;
    expect(dead).toMatchObject([{ status: 'dead', attempts: 1, lastStatusCode: 410, lastError: 'Answered 410: gone' }]);
    await expect.poll(() => pendingJobs(gw.database.db, ws.id), { timeout: 5000 }).toEqual([]);
    await gw.api.post(`/api/workspaces/${ws.id}/deliveries/${dead[0].id}/replay`).expect(202);
    await runJobs(gw);
    expect((await gw.api.get(`/api/workspaces/${ws.id}/deliveries?destination=${dead[0].destinationId}`).expect(200)).body.deliveries)
      .toMatchObject([{ id: dead[0].id, status: 'delivered', attempts: 1, lastStatusCode: 200 }]);
    expect(hooks.requests[1].headers['webhook-id']).toBe(hooks.requests[0].headers['webhook-id']);
  });

  it('test action posts a signed sample and reports the answer', async () => {
    const { ws, segment } = await setup();
    const hook = (await gw.api.post(`/api/workspaces/${ws.id}/webhooks`).send({ url: `${hooks.url}/hook`, segmentIds: [segment.id] }).expect(201)).body;
    const res = await gw.api.post(`/api/workspaces/${ws.id}/webhooks/${hook.id}/test`).expect(200);
    expect(res.body).toEqual({ ok: true, status: 200, message: 'Accepted' });
    expect(hooks.requests[0].json.type).toBe('webhook.test');
    expect(await verifyStandardWebhook(hook.secret, hooks.requests[0].headers, hooks.requests[0].body)).toBe(true);
  });
});

describe('Slack', () => {
  it('stores the URL encrypted, masks it, and posts "Ada Lovelace (ada@…) entered Power Users"', async () => {
    const { ws, segment } = await setup();
    const url = `${hooks.url}/services/T0001/B0002/secretsecretsecret`;
    const created = await gw.api.post(`/api/workspaces/${ws.id}/slack`).send({ webhookUrl: url, segmentIds: [segment.id] }).expect(201);
    expect(JSON.stringify(created.body)).not.toContain('secretsecretsecret');
    const list = await gw.api.get(`/api/workspaces/${ws.id}/slack`).expect(200);
    expect(list.body.slack).toEqual([{ id: created.body.id, webhookUrlHint: `${hooks.url}/serv…cret`, segmentIds: [segment.id], events: ['segment.entered'], createdAt: expect.any(String) }]);
    const row = await gw.database.db('slack_destinations').where({ id: created.body.id }).first();
    expect(row.webhook_url_enc).not.toContain('secretsecret');

    await addJob(gw.database.db, 'segment.membership', await aMembershipChange(gw.database.db, ws.id, segment.id, 'ada', 'entered'));
    await addJob(gw.database.db, 'segment.membership', await aMembershipChange(gw.database.db, ws.id, segment.id, 'ada', 'exited'));
    await aUser(gw.database.db, ws.id, 'u-42', {});
    await addJob(gw.database.db, 'segment.membership', await aMembershipChange(gw.database.db, ws.id, segment.id, 'u-42', 'entered'));
    await runJobs(gw);
    expect(hooks.requests.map((r) => [r.path, r.json])).toEqual([
      ['/services/T0001/B0002/secretsecretsecret', { text: 'Ada Lovelace (ada@…) entered Power Users' }],
      ['/services/T0001/B0002/secretsecretsecret', { text: 'u-42 entered Power Users' }],
    ]);
    expect(await deliveries(ws.id)).toMatchObject([{ destination: 'slack', status: 'delivered' }, { destination: 'slack', status: 'delivered' }]);

    const test = await gw.api.post(`/api/workspaces/${ws.id}/slack/${created.body.id}/test`).expect(200);
    expect(test.body.ok).toBe(true);
    await gw.api.delete(`/api/workspaces/${ws.id}/slack/${created.body.id}`).expect(204);
  });
});

describe('only incremental evaluation fires', () => {
  it('membership changes from a full evaluation (no segment.membership job) send nothing', async () => {
    const { ws, segment } = await setup();
    await gw.api.post(`/api/workspaces/${ws.id}/webhooks`).send({ url: `${hooks.url}/hook`, segmentIds: [segment.id] }).expect(201);
    await gw.database.db('membership_log').insert({ workspace_id: ws.id, segment_id: segment.id, user_id: 'ada', change: 'entered', cause: 'full' });
    await runJobs(gw);
    expect(hooks.requests).toEqual([]);
    expect(await deliveries(ws.id)).toEqual([]);
  });
});

describe('tenant isolation', () => {
  it('one workspace cannot read or act on another workspace\'s outbound objects', async () => {
    const a = await setup();
    const b = await gw.createWorkspace('Other');
    const hook = (await gw.api.post(`/api/workspaces/${a.ws.id}/webhooks`).send({ url: `${hooks.url}/hook`, segmentIds: [a.segment.id] }).expect(201)).body;
    const slack = (await gw.api.post(`/api/workspaces/${a.ws.id}/slack`).send({ webhookUrl: `${hooks.url}/s`, segmentIds: [a.segment.id] }).expect(201)).body;
    await gw.api.put(`/api/workspaces/${a.ws.id}/integrations/segment`).send({ writeKey: 'wk_a_0123456789', enabled: true }).expect(200);
    hooks.replies.push({ status: 400 });
    await addJob(gw.database.db, 'segment.membership', await aMembershipChange(gw.database.db, a.ws.id, a.segment.id, 'ada', 'entered'));
    await runJobs(gw);
    const [delivery] = await deliveries(a.ws.id);

    // B cannot use A's segments, nor see or touch A's objects.
    await gw.api.post(`/api/workspaces/${b.id}/webhooks`).send({ url: hooks.url, segmentIds: [a.segment.id] }).expect(400);
    await gw.api.post(`/api/workspaces/${b.id}/slack`).send({ webhookUrl: hooks.url, segmentIds: [a.segment.id] }).expect(400);
    expect((await gw.api.get(`/api/workspaces/${b.id}/webhooks`).expect(200)).body.webhooks).toEqual([]);
    expect((await gw.api.get(`/api/workspaces/${b.id}/slack`).expect(200)).body.slack).toEqual([]);
    expect((await gw.api.get(`/api/workspaces/${b.id}/deliveries`).expect(200)).body.deliveries).toEqual([]);
    await gw.api.get(`/api/workspaces/${b.id}/integrations/segment`).expect(404);
    await gw.api.post(`/api/workspaces/${b.id}/integrations/segment/test`).send({}).expect(404);
    await gw.api.post(`/api/workspaces/${b.id}/integrations/segment/replay`).send({ from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' }).expect(404);
    await gw.api.post(`/api/workspaces/${b.id}/deliveries/${delivery.id}/replay`).expect(404);
    await gw.api.post(`/api/workspaces/${b.id}/webhooks/${hook.id}/test`).expect(404);
    await gw.api.post(`/api/workspaces/${b.id}/slack/${slack.id}/test`).expect(404);
    await gw.api.delete(`/api/workspaces/${b.id}/webhooks/${hook.id}`).expect(404);
    await gw.api.delete(`/api/workspaces/${b.id}/slack/${slack.id}`).expect(404);
    expect(await gw.database.db('webhooks').where({ id: hook.id })).toHaveLength(1);
    // A membership job claiming B's workspace for A's segment fans out to nothing.
    await addJob(gw.database.db, 'segment.membership', { workspaceId: b.id, segmentId: a.segment.id, userId: 'ada', change: 'entered', at: new Date().toISOString(), logId: '999' });
    await runJobs(gw);
    expect(await deliveries(b.id)).toEqual([]);
    // without the admin token: 401
    await gw.http.get(`/api/workspaces/${a.ws.id}/webhooks`).expect(401);
  });
});
