import crypto from 'node:crypto';
import knex from 'knex';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { GroupCommitWriter } from '../../src/ingest/writer.js';
import { useGateway } from '../helpers/gateway.js';
import { aTrack, anIdentify } from './messages.js';

const gw = useGateway();
let ws: { id: string; ingestKey: string };
const eventsOf = (userId: string) => gw.database.db('events').where({ workspace_id: ws.id, user_id: userId });

beforeAll(async () => {
  ws = await gw.createWorkspace('Access');
});

describe('401: the ingest key', () => {
  it('accepts the key as the Basic user name with an empty password (what Segment sends)', async () => {
    await gw.http.post('/v1/track').auth(ws.ingestKey, '').send(aTrack({ userId: 'basic' })).expect(200);
    expect(await eventsOf('basic')).toHaveLength(1);
  });

  it('accepts the key as a Bearer token', async () => {
    await gw.http.post('/v1/track').set('Authorization', `Bearer ${ws.ingestKey}`).send(aTrack({ userId: 'bearer' })).expect(200);
    expect(await eventsOf('bearer')).toHaveLength(1);
  });

  it('accepts the key as writeKey in the body, on single and batch paths', async () => {
    await gw.http.post('/v1/track').send({ ...aTrack({ userId: 'body-key' }), writeKey: ws.ingestKey }).expect(200);
    await gw.http.post('/v1/batch').send({ batch: [aTrack({ userId: 'body-key' })], writeKey: ws.ingestKey }).expect(200);
    const rows = await eventsOf('body-key');
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.extra === null)).toBe(true); // writeKey is a credential, never stored
  });

  it.each(['/v1/segment', '/v1/identify', '/v1/batch', '/v1/import', '/v1/webhooks/segment'])('answers 401 on %s without a key', async (path) => {
    const res = await gw.http.post(path).send(path.includes('batch') || path.includes('import') ? { batch: [] } : anIdentify()).expect(401);
    expect(res.body).toMatchObject({ success: false, code: 'unauthorized' });
  });

  it('answers 401 for a wrong key in each placement', async () => {
    await gw.http.post('/v1/track').auth('agk_wrong', '').send(aTrack()).expect(401);
    await gw.http.post('/v1/track').set('Authorization', 'Bearer agk_wrong').send(aTrack()).expect(401);
    await gw.http.post('/v1/track').send({ ...aTrack(), writeKey: 'agk_wrong' }).expect(401);
    await gw.http.post('/v1/track').auth(`${ws.ingestKey}x`, '').send(aTrack()).expect(401);
  });

  it('does not accept the admin token as an ingest key', async () => {
    await gw.http.post('/v1/track').set('Authorization', `Bearer ${gw.ctx.adminToken}`).send(aTrack()).expect(401);
  });
});

describe('/v1/webhooks/segment (Segment Webhooks destination)', () => {
  it('stores one message and a JSON array of messages without a shared secret', async () => {
    await gw.http.post('/v1/webhooks/segment').auth(ws.ingestKey, '').send(aTrack({ userId: 'hook-1' })).expect(200, { success: true });
    const res = await gw.http.post('/v1/webhooks/segment').auth(ws.ingestKey, '')
      .send([aTrack({ userId: 'hook-1' }), anIdentify({ userId: 'hook-1' }), { type: 'screen', userId: 'hook-1', name: 'Home' }]).expect(200);
    expect(res.body).toMatchObject({ success: true, accepted: 2, duplicates: 0, rejected: [{ index: 2, code: 'not_supported' }] });
    expect(await eventsOf('hook-1')).toHaveLength(3);
  });

  it('answers 501 for a single unsupported message', async () => {
    await gw.http.post('/v1/webhooks/segment').auth(ws.ingestKey, '').send({ type: 'page', userId: 'hook-x', name: 'Home' }).expect(501);
  });

  describe('with a shared secret', () => {
    const secret = 'shared-secret-for-hooks';
    let signed: { id: string; ingestKey: string };
    const sign = (data: string) => crypto.createHmac('sha1', secret).update(data).digest('hex');
    const hook = (raw: string, signature?: string) => {
      const t = gw.http.post('/v1/webhooks/segment').auth(signed.ingestKey, '').set('Content-Type', 'application/json');
      return (signature === undefined ? t : t.set('X-Signature', signature)).send(raw);
    };

    beforeAll(async () => {
      signed = await gw.createWorkspace('Signed hooks');
      const res = await gw.api.patch(`/api/workspaces/${signed.id}`).send({ webhookSecret: secret }).expect(200);
      expect(res.body).toMatchObject({ hasWebhookSecret: true });
      expect(JSON.stringify(res.body)).not.toContain(secret);
      const row = await gw.database.db('workspaces').where({ id: signed.id }).first();
      expect(row.webhook_secret_enc).not.toContain(secret); // encrypted at rest
    });

    it('accepts a single message whose X-Signature is the HMAC-SHA1 of the raw body', async () => {
      const raw = JSON.stringify(aTrack({ userId: 'signed-1' }));
      await hook(raw, sign(raw)).expect(200, { success: true });
      await hook(raw, sign(raw).toUpperCase()).expect(200); // hex case does not matter
    });

    it('accepts an array signed over the raw body or over its first element', async () => {
      const first = aTrack({ userId: 'signed-2' });
      const raw = JSON.stringify([first, aTrack({ userId: 'signed-2' })]);
      await hook(raw, sign(raw)).expect(200);
      const raw2 = JSON.stringify([aTrack({ userId: 'signed-2' })]);
      const body = JSON.parse(raw2) as unknown[];
      await hook(raw2, sign(JSON.stringify(body[0]))).expect(200);
      expect(await gw.database.db('events').where({ workspace_id: signed.id, user_id: 'signed-2' })).toHaveLength(3);
    });

    it('answers 401 for a missing or wrong signature and stores nothing', async () => {
      const raw = JSON.stringify(aTrack({ userId: 'signed-bad' }));
      expect((await hook(raw).expect(401)).body).toMatchObject({ success: false, code: 'bad_signature' });
      await hook(raw, sign(`${raw} `)).expect(401);
      await hook(raw, 'abc').expect(401);
      expect(await gw.database.db('events').where({ workspace_id: signed.id, user_id: 'signed-bad' })).toHaveLength(0);
    });

    it('stops checking once the secret is removed', async () => {
      await gw.api.patch(`/api/workspaces/${signed.id}`).send({ webhookSecret: null }).expect(200);
      await hook(JSON.stringify(aTrack({ userId: 'unsigned' }))).expect(200);
    });
  });
});

describe('429: per-workspace rate limit', () => {
  it('is off by default', async () => {
    const batch = Array.from({ length: 200 }, (_, i) => aTrack({ userId: `unlimited-${i % 3}` }));
    await gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({ batch }).expect(200);
  });

  it('answers 429 with Retry-After once a workspace exceeds its rate, without touching other workspaces', async () => {
    const limited = await gw.createWorkspace('Limited');
    const res = await gw.api.patch(`/api/workspaces/${limited.id}`).send({ rateLimitPerSec: 2 }).expect(200);
    expect(res.body.rateLimitPerSec).toBe(2);
    const send = (key: string) => gw.http.post('/v1/track').auth(key, '').send(aTrack({ userId: 'limited' }));
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    let body: unknown;
    for (let i = 0; i < 6; i++) {
      const r = await send(limited.ingestKey);
      statuses.push(r.status);
      if (r.status === 429) { retryAfter = r.headers['retry-after']; body = r.body; }
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(body).toMatchObject({ success: false, code: 'rate_limited' });
    // A batch counts its messages.
    const batch = await gw.http.post('/v1/batch').auth(limited.ingestKey, '').send({ batch: [aTrack(), aTrack(), aTrack()] });
    expect(batch.status).toBe(429);
    // Other workspaces are unaffected.
    await send(ws.ingestKey).expect(200);
    // Stored: only the accepted requests.
    const stored = await gw.database.db('events').where({ workspace_id: limited.id }).count().first();
    expect(Number(stored!.count)).toBe(statuses.filter((s) => s === 200).length);
  });
});

describe('503: the database is unreachable', () => {
  // The same app, but its database points at a closed port.
  const quiet = { warn() {}, error() {}, debug() {}, deprecate() {} };
  const down = () => {
    const db = knex({ client: 'pg', connection: 'postgres://postgres@127.0.0.1:1/nowhere', pool: { min: 0, max: 2 }, acquireConnectionTimeout: 500, log: quiet });
    const ctx = { ...gw.ctx, db, writer: new GroupCommitWriter(db) };
    return { app: createApp(ctx), db };
  };

  it('answers 503 (retryable, not 401) when the key cannot be checked', async () => {
    const { app, db } = down();
    try {
      const res = await request(app).post('/v1/track').auth('agk_never_seen_before', '').send(aTrack()).expect(503);
      expect(res.body).toMatchObject({ success: false, code: 'unavailable' });
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      await db.destroy();
    }
  });

  it('answers 503 when the commit fails, for single messages and batches', async () => {
    // The key was checked moments ago by the healthy app, so the failure happens at the commit.
    await gw.http.post('/v1/track').auth(ws.ingestKey, '').send(aTrack({ userId: 'warm' })).expect(200);
    const { app, db } = down();
    try {
      expect((await request(app).post('/v1/track').auth(ws.ingestKey, '').send(aTrack()).expect(503)).body.code).toBe('unavailable');
      await request(app).post('/v1/batch').auth(ws.ingestKey, '').send({ batch: [aTrack()] }).expect(503);
      await request(app).get('/readyz').expect(503);
    } finally {
      await db.destroy();
    }
  });
});

describe('health', () => {
  it('/healthz answers while the process is up, /readyz when the database is reachable and migrated', async () => {
    await gw.http.get('/healthz').expect(200, { status: 'ok' });
    const res = await gw.http.get('/readyz').expect(200);
    expect(res.body).toMatchObject({ status: 'ready', database: 'ok', migrations: 'current' });
  });
});
