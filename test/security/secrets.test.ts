import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { useGateway, ADMIN_TOKEN } from '../helpers/gateway.js';
import { redirectLogs } from '../../src/lib/logger.js';
import { listRoutes, fillPath } from './support.js';

/**
 * Secrets (ingest keys, the admin token, webhook secrets, write keys, SECRET_KEY) never appear in logs, in
 * error answers or in API answers other than the one that creates them, and are stored only hashed or
 * encrypted. The logger is pointed at an array for the whole file.
 */
const gw = useGateway();
const lines: string[] = [];
let restore: () => void;
const secrets = new Set<string>([ADMIN_TOKEN, 'test-secret-key']);
const answers: { what: string; text: string }[] = [];

beforeAll(() => {
  restore = redirectLogs({ write: (l: string) => lines.push(l) }, 'debug');
});
afterAll(() => restore?.());

const hmac = (secret: string, body: string) => crypto.createHmac('sha1', secret).update(body).digest('hex');

describe('secrets', () => {
  it('stay out of logs, error answers and stored rows while the gateway is used and misused', async () => {
    const ws = await gw.createWorkspace('Secrets');
    secrets.add(ws.ingestKey);
    const webhookSecret = `whsec-${crypto.randomBytes(12).toString('hex')}`;
    secrets.add(webhookSecret);
    const patched = await gw.api.patch(`/api/workspaces/${ws.id}`).send({ webhookSecret }).expect(200);
    answers.push({ what: 'patch workspace', text: patched.text });

    const key = ws.ingestKey;
    const msg = { type: 'identify', userId: 'u1', traits: { plan: 'pro' } };
    const calls = [
      gw.http.post('/v1/identify').auth(key, '').send(msg),
      gw.http.post('/v1/identify').set('Authorization', `Bearer ${key}`).send(msg),
      gw.http.post('/v1/identify').send({ ...msg, writeKey: key }),
      gw.http.post('/v1/batch').send({ writeKey: key, batch: [msg, { type: 'track', userId: 'u1', event: 'E', writeKey: key }] }),
      gw.http.post('/v1/track').auth(key, '').send({ type: 'track', userId: 'u1' }), // 400
      gw.http.post('/v1/page').auth(key, '').send({ type: 'page', userId: 'u1' }), // 501
      gw.http.post('/v1/track').auth(`${key}x`, '').send(msg), // 401 with a near-miss key
      gw.http.post('/v1/track').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send(msg),
      gw.http.post('/v1/webhooks/segment').auth(key, '').set('X-Signature', 'bad').send(msg), // 401 bad signature
      gw.http.post('/v1/webhooks/segment').auth(key, '').set('X-Signature', hmac(webhookSecret, JSON.stringify(msg))).set('Content-Type', 'application/json').send(JSON.stringify(msg)),
      gw.http.post('/v1/track').auth(key, '').set('Content-Type', 'application/json').send(`{"writeKey":"${key}", broken`),
      gw.api.get(`/api/workspaces/${ws.id}`),
      gw.api.get('/api/workspaces'),
      gw.http.get('/api/workspaces').set('Authorization', `Bearer ${ADMIN_TOKEN.slice(0, -2)}`),
      gw.api.post('/api/workspaces').set('Content-Type', 'application/json').send(`{"name": "${ADMIN_TOKEN}`),
      gw.http.get('/metrics'),
    ];
    for (const [i, c] of calls.entries()) {
      const res = await c;
      expect(res.status === 501 || res.status < 500).toBe(true);
      answers.push({ what: `call ${i} ${res.status}`, text: res.text });
    }

    // A rotated key is shown once; the old one stops working.
    const rotated = await gw.api.post(`/api/workspaces/${ws.id}/ingest-key/rotate`).expect(200);
    secrets.add(rotated.body.ingestKey);
    await gw.http.post('/v1/identify').auth(key, '').send(msg).expect(401);

    // Every management route, called with the admin token (including those that land later).
    for (const r of listRoutes(gw.app).filter((x) => x.path.startsWith('/api/') && x.method === 'get')) {
      const res = await gw.api.get(fillPath(r.path, ws.id, () => 'u1'));
      answers.push({ what: `GET ${r.path} ${res.status}`, text: res.text });
    }

    const logs = lines.join('');
    expect(lines.length).toBeGreaterThan(10); // the capture works: request lines were logged
    expect(logs).toContain('"requestId"');
    for (const s of secrets) {
      expect(logs.includes(s), `a secret appears in the logs`).toBe(false);
      const leaking = answers.filter((a) => a.text.includes(s) || a.text.includes(s.slice(0, 16))).map((a) => a.what);
      expect(leaking).toEqual([]);
    }

    // Stored: keys as SHA-256 only, the webhook secret encrypted, the body's writeKey dropped.
    const db = gw.database.db;
    const { rows } = await db.raw(`select x::text as t from workspaces x union all select x::text from events x union all select x::text from users x`);
    const stored = (rows as { t: string }[]).map((r) => r.t).join('\n');
    for (const s of secrets) expect(stored.includes(s)).toBe(false);
    expect(stored).toContain('Secrets'); // (control: the rows were read)
  });
});
