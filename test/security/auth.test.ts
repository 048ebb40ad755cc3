import { beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { useGateway, ADMIN_TOKEN } from '../helpers/gateway.js';
import { fillPath, listRoutes, snapshotWorkspace, workspaceTables, type RouteInfo } from './support.js';

/**
 * Authentication and tenancy through every route the app mounts (enumerated from the Express router, so
 * routes that land later are covered without editing this file).
 */
const gw = useGateway();
const MARKER = 'B-PRIVATE-MARKER';
const PUBLIC = new Set(['get /healthz', 'get /readyz', 'get /metrics']);
/** Admin page paths a visitor without a session may load (the login form and the page's static files). */
const PAGE_PUBLIC = /^\/admin\/(login|logout|assets\/|static\/|public\/)|\.(js|css|svg|png|ico)$/;

let A: { id: string; ingestKey: string };
let B: { id: string; ingestKey: string };
let routes: RouteInfo[];

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const send = (method: string, path: string) => request(gw.app)[method as Method](path);

/** A body that names workspace B's objects in every field an area might read. */
function poisonBody(ids: string[], userIds: string[]) {
  const id = ids[0];
  return {
    name: 'poison', workspaceId: B.id, workspace_id: B.id,
    segmentId: id, segmentIds: ids, include: ids, exclude: ids, surveyId: id, surveyIds: ids, audienceId: id,
    userId: userIds[0], userIds, responseId: id, interactionId: id, id,
    definition: { segment: id, member: true },
    type: 'static', match: 'any', url: 'https://example.com/hook', events: ['segment.entered'], webhookUrl: 'https://hooks.slack.com/services/T/B/X',
  };
}

beforeAll(async () => {
  A = await gw.createWorkspace('A');
  B = await gw.createWorkspace('B');
  const ingest = (key: string, userId: string, plan: string) =>
    gw.http.post('/v1/batch').auth(key, '').send({
      batch: [
        { type: 'identify', userId, traits: { plan, note: plan } },
        { type: 'group', userId, groupId: `${userId}-org`, traits: { name: plan } },
        { type: 'track', userId, event: 'Clicked', properties: { plan } },
      ],
    }).expect(200);
  await ingest(A.ingestKey, 'a-user', 'a-plan');
  await ingest(B.ingestKey, 'b-user', MARKER);
  await gw.api.patch(`/api/workspaces/${B.id}`).send({ webhookSecret: 'b-webhook-secret-123' }).expect(200);
  routes = listRoutes(gw.app);
});

describe('route inventory', () => {
  it('finds the ingest, management and health routes', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(keys).toEqual(expect.arrayContaining([
      'post /v1/batch', 'post /v1/segment', 'post /v1/webhooks/segment', 'post /api/workspaces',
      'get /api/workspaces/:workspaceId/users/:userId', 'get /healthz',
    ]));
    // Every route is in one of the checked families; a new family needs a rule here.
    const unclassified = routes.filter((r) => !PUBLIC.has(`${r.method} ${r.path}`) && !/^\/(v1|api|admin)(\/|$)/.test(r.path));
    expect(unclassified).toEqual([]);
  });
});

describe('management API: admin token', () => {
  const wrongCredentials = () => [
    {},
    { Authorization: 'Bearer wrong' },
    { Authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}${ADMIN_TOKEN.endsWith('x') ? 'y' : 'x'}` }, // same length, last byte differs
    { Authorization: `Bearer ${ADMIN_TOKEN}x` },
    { Authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
    { Authorization: `Basic ${Buffer.from(`${ADMIN_TOKEN}:`).toString('base64')}` },
    { Authorization: `Bearer ${A.ingestKey}` }, // an ingest key is not an admin token
    { Authorization: ADMIN_TOKEN },
  ];

  it('refuses every /api route without the right token, before reading or validating anything', async () => {
    const before = await snapshotWorkspace(gw.database.db, B.id);
    const api = routes.filter((r) => r.path.startsWith('/api'));
    expect(api.length).toBeGreaterThanOrEqual(5);
    let checked = 0;
    for (const r of api) {
      for (const headers of wrongCredentials()) {
        const res = await send(r.method, fillPath(r.path, B.id, () => 'b-user')).set(headers).send(poisonBody([B.id], ['b-user']));
        expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({ route: `${r.method} ${r.path}`, status: 401 });
        expect(res.body.error?.code).toBe('unauthorized');
        expect(res.text).not.toContain(MARKER);
        checked++;
      }
    }
    expect(await snapshotWorkspace(gw.database.db, B.id)).toEqual(before);
    expect(checked).toBe(api.length * wrongCredentials().length);
    console.info(`[figures] auth-admin ${JSON.stringify({ routes: api.length, requests: checked })}`);
  });

  it('lets the right token through (control)', async () => {
    const res = await gw.api.get(`/api/workspaces/${B.id}/users/b-user`).expect(200);
    expect(JSON.stringify(res.body)).toContain(MARKER);
  });

  it('keeps the admin page behind its login', async () => {
    const page = routes.filter((r) => r.path.startsWith('/admin') && !PAGE_PUBLIC.test(r.path));
    for (const r of page) {
      const res = await send(r.method, fillPath(r.path, B.id, () => 'b-user')).send({});
      expect({ route: `${r.method} ${r.path}`, ok: [301, 302, 303, 401, 403].includes(res.status) }).toEqual({ route: `${r.method} ${r.path}`, ok: true });
      expect(res.text).not.toContain(MARKER);
    }
  });
});

describe('ingest: workspace key', () => {
  const message = { type: 'track', userId: 'intruder', event: 'Clicked', messageId: 'intruder-1' };
  const bodyFor = (path: string, extra: Record<string, unknown> = {}) =>
    ['/v1/batch', '/v1/import', '/v1/b'].includes(path) ? { batch: [message], ...extra } : { ...message, ...extra };

  it('refuses every ingest route with a missing, wrong or mangled key', async () => {
    const ingest = routes.filter((r) => r.path.startsWith('/v1/'));
    expect(ingest.length).toBeGreaterThanOrEqual(10);
    const mangled = `${A.ingestKey.slice(0, -1)}${A.ingestKey.endsWith('A') ? 'B' : 'A'}`;
    const attempts: { headers: Record<string, string>; body?: Record<string, unknown> }[] = [
      { headers: {} },
      { headers: { Authorization: `Basic ${Buffer.from(`${mangled}:`).toString('base64')}` } },
      { headers: { Authorization: `Bearer ${mangled}` } },
      { headers: {}, body: { writeKey: mangled } },
      { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }, // the admin token is not an ingest key
      { headers: { Authorization: `Basic ${Buffer.from(`:${A.ingestKey}`).toString('base64')}` } }, // key as password
      { headers: { Authorization: `Basic ${Buffer.from(`${A.ingestKey.toUpperCase()}:`).toString('base64')}` } },
      { headers: { Authorization: `Basic ${Buffer.from(`${'k'.repeat(5000)}:`).toString('base64')}` } },
      { headers: { Authorization: 'Basic !!!not-base64!!!' } },
    ];
    for (const r of ingest) {
      for (const a of attempts) {
        const res = await send(r.method, r.path).set({ 'content-type': 'application/json', ...a.headers }).send(bodyFor(r.path, a.body));
        expect({ route: r.path, status: res.status }).toEqual({ route: r.path, status: 401 });
        expect(res.body).toMatchObject({ success: false, code: 'unauthorized' });
      }
    }
    const stored = await gw.database.db('events').where({ message_id: 'intruder-1' }).count({ n: '*' });
    expect(Number(stored[0].n)).toBe(0);
  });

  it('refuses a key after it was rotated, and accepts the new one', async () => {
    const C = await gw.createWorkspace('C');
    await gw.http.post('/v1/track').auth(C.ingestKey, '').send({ ...message, messageId: 'c-1' }).expect(200);
    const rotated = await gw.api.post(`/api/workspaces/${C.id}/ingest-key/rotate`).expect(200);
    await gw.http.post('/v1/track').auth(C.ingestKey, '').send({ ...message, messageId: 'c-2' }).expect(401);
    await gw.http.post('/v1/track').auth(rotated.body.ingestKey, '').send({ ...message, messageId: 'c-3' }).expect(200);
    const ids = await gw.database.db('events').where({ workspace_id: C.id }).orderBy('message_id').pluck('message_id');
    expect(ids).toEqual(['c-1', 'c-3']);
  });

  it('writes with key A land in workspace A whatever the body claims', async () => {
    const before = await snapshotWorkspace(gw.database.db, B.id);
    const claims = { workspaceId: B.id, workspace_id: B.id, writeKey: B.ingestKey, context: { workspaceId: B.id } };
    for (const r of routes.filter((x) => x.path.startsWith('/v1/'))) {
      const res = await send(r.method, r.path).auth(A.ingestKey, '').send(bodyFor(r.path, { ...claims, messageId: `claim-${r.path}` }));
      expect(res.status).toBeLessThan(500);
      expect(res.status).not.toBe(401);
    }
    expect(await snapshotWorkspace(gw.database.db, B.id)).toEqual(before);
    const inA = await gw.database.db('events').where({ workspace_id: A.id }).where('message_id', 'like', 'claim-%').count({ n: '*' });
    expect(Number(inA[0].n)).toBeGreaterThanOrEqual(5);
  });
});

describe('tenancy: workspace A paths with workspace B ids', () => {
  it('never reads or changes B through any workspace-scoped route', async () => {
    const db = gw.database.db;
    // Every identifier B owns: ids of its rows, user ids, group ids, message ids.
    const ids = new Set<string>();
    const userIds = new Set<string>(['b-user']);
    for (const t of await workspaceTables(db)) {
      const cols = (await db.raw(`select column_name from information_schema.columns where table_schema = 'public' and table_name = ?`, [t])).rows.map((r: { column_name: string }) => r.column_name) as string[];
      for (const c of cols.filter((x) => x === 'id' || (x.endsWith('_id') && x !== 'workspace_id'))) {
        const vals = await db(t).where({ workspace_id: B.id }).distinct(c).limit(20).pluck(c);
        for (const v of vals) if (v !== null) (c === 'user_id' ? userIds : ids).add(String(v));
      }
    }
    const candidates = [...new Set([...ids, ...userIds])];
    const before = await snapshotWorkspace(db, B.id);
    const scoped = routes.filter((r) => r.path.startsWith('/api/workspaces/:workspaceId/'));
    expect(scoped.length).toBeGreaterThanOrEqual(2);
    let checked = 0;
    for (const r of scoped) {
      const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]).filter((p) => p !== 'workspaceId');
      for (const candidate of candidates) {
        const path = fillPath(r.path, A.id, () => candidate);
        const res = await gw.api[r.method as Method](path).send(poisonBody([...ids], [...userIds]));
        expect(res.status).toBeLessThan(500);
        if (params.length) expect({ route: `${r.method} ${r.path}`, candidate, ok: res.status >= 400 }).toEqual({ route: `${r.method} ${r.path}`, candidate, ok: true });
        expect(res.text).not.toContain(MARKER);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
    console.info(`[figures] tenancy ${JSON.stringify({ routes: scoped.length, idsOfB: candidates.length, requests: checked })}`);
    expect(await snapshotWorkspace(db, B.id)).toEqual(before);
    // Control: the same route with B's own workspace id does find the user.
    await gw.api.get(`/api/workspaces/${B.id}/users/b-user`).expect(200);
    await gw.api.get(`/api/workspaces/${A.id}/users/b-user`).expect(404);
  });
});
