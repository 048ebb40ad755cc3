import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aGroup, anIdentify, aTrack } from '../ingest/messages.js';

const gw = useGateway();

describe('workspaces and ingest keys', () => {
  it('POST /api/workspaces creates a workspace and shows its ingest key once', async () => {
    const res = await gw.api.post('/api/workspaces').send({ name: '  Acme  ' }).expect(201);
    expect(res.body).toMatchObject({ id: expect.any(String), name: 'Acme', ingestKey: expect.stringMatching(/^agk_[A-Za-z0-9_-]{43}$/) });
    const shown = await gw.api.get(`/api/workspaces/${res.body.id}`).expect(200);
    expect(shown.body).toMatchObject({ id: res.body.id, name: 'Acme', hasWebhookSecret: false, rateLimitPerSec: null });
    expect(JSON.stringify(shown.body)).not.toContain(res.body.ingestKey);
    const list = await gw.api.get('/api/workspaces').expect(200);
    expect(list.body.workspaces.map((w: { id: string }) => w.id)).toContain(res.body.id);
    expect(JSON.stringify(list.body)).not.toContain(res.body.ingestKey);
  });

  it('stores the key only as its SHA-256 hash: no plaintext anywhere in the row', async () => {
    const ws = await gw.createWorkspace('Hashed');
    const row = await gw.database.db('workspaces').where({ id: ws.id }).first();
    expect(Buffer.compare(row.ingest_key_hash, crypto.createHash('sha256').update(ws.ingestKey).digest())).toBe(0);
    const { rows } = await gw.database.db.raw(`select row_to_json(w)::text as t from workspaces w where id = ?`, [ws.id]);
    expect(rows[0].t).not.toContain(ws.ingestKey);
    expect(rows[0].t).not.toContain(ws.ingestKey.slice(8, -4));
  });

  it('rotation makes a new key; the old one stops working at once', async () => {
    const ws = await gw.createWorkspace('Rotating');
    await gw.http.post('/v1/track').auth(ws.ingestKey, '').send(aTrack()).expect(200); // cached by the auth layer
    const res = await gw.api.post(`/api/workspaces/${ws.id}/ingest-key/rotate`).expect(200);
    expect(res.body.ingestKey).toMatch(/^agk_/);
    expect(res.body.ingestKey).not.toBe(ws.ingestKey);
    await gw.http.post('/v1/track').auth(ws.ingestKey, '').send(aTrack()).expect(401);
    await gw.http.post('/v1/track').auth(res.body.ingestKey, '').send(aTrack()).expect(200);
  });

  it('answers 400 naming the field for a bad name, 404 for an unknown workspace, 401 without the admin token', async () => {
    const bad = await gw.api.post('/api/workspaces').send({ name: '' }).expect(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid', details: [expect.objectContaining({ path: 'name' })] });
    await gw.api.post('/api/workspaces/00000000-0000-4000-8000-000000000000/ingest-key/rotate').expect(404);
    await gw.api.patch('/api/workspaces/00000000-0000-4000-8000-000000000000').send({ name: 'x' }).expect(404);
    await gw.api.get('/api/workspaces/nope').expect(404);
    await gw.http.post('/api/workspaces').send({ name: 'x' }).expect(401);
    await gw.http.post('/api/workspaces').set('Authorization', 'Bearer wrong-token-000000000').send({ name: 'x' }).expect(401);
    const patch = await gw.api.patch(`/api/workspaces/${(await gw.createWorkspace()).id}`).send({ rateLimitPerSec: -1 }).expect(400);
    expect(patch.body.error.details[0].path).toBe('rateLimitPerSec');
  });
});

describe('tenancy: two workspaces never see each other\'s data', () => {
  it('keeps events, users, accounts, counters and profiles apart, even with the same ids', async () => {
    const a = await gw.createWorkspace('Tenant A');
    const b = await gw.createWorkspace('Tenant B');
    const shared = { messageId: 'same-message-id' };
    await gw.http.post('/v1/batch').auth(a.ingestKey, '').send({ batch: [
      anIdentify({ userId: 'same-user', messageId: 'a-identify', traits: { plan: 'pro', tenant: 'A' } }),
      aGroup({ userId: 'same-user', groupId: 'same-acct', messageId: 'a-group', traits: { tenant: 'A' } }),
      aTrack({ userId: 'same-user', ...shared }),
    ] }).expect(200, { success: true, accepted: 3, duplicates: 0, rejected: [] });
    // The same messageId in another workspace is a different message, not a duplicate.
    await gw.http.post('/v1/batch').auth(b.ingestKey, '').send({ batch: [
      anIdentify({ userId: 'same-user', messageId: 'b-identify', traits: { tenant: 'B' } }),
      aTrack({ userId: 'same-user', ...shared }),
    ] }).expect(200, { success: true, accepted: 2, duplicates: 0, rejected: [] });

    const pa = (await gw.api.get(`/api/workspaces/${a.id}/users/same-user`).expect(200)).body;
    const pb = (await gw.api.get(`/api/workspaces/${b.id}/users/same-user`).expect(200)).body;
    expect(pa.traits).toEqual({ plan: 'pro', tenant: 'A' });
    expect(pa.accounts).toHaveLength(1);
    expect(pb.traits).toEqual({ tenant: 'B' });
    expect(pb.accounts).toEqual([]);

    const db = gw.database.db;
    expect(await db('events').where({ workspace_id: b.id }).count().first()).toEqual({ count: 2 });
    expect(await db('accounts').where({ workspace_id: b.id })).toHaveLength(0);
    expect(await db('event_counts').where({ workspace_id: b.id }).sum('count as n').first()).toEqual({ n: 1 });

    // A user only in A is not found through B's path, and A's key cannot write into B's profile.
    await gw.http.post('/v1/identify').auth(a.ingestKey, '').send({ userId: 'only-a', traits: { x: 1 } }).expect(200);
    await gw.api.get(`/api/workspaces/${b.id}/users/only-a`).expect(404);
    await gw.api.get(`/api/workspaces/${a.id}/users/only-a`).expect(200);
  });
});
