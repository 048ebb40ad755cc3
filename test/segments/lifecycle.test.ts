import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aUser, createSegment, memberIds } from './factories.js';

const gw = useGateway();
let ws: string;
const base = () => `/api/workspaces/${ws}/segments`;
const NOW = new Date('2026-06-15T12:00:00Z');

beforeAll(async () => {
  gw.clock.set(NOW);
  ws = (await gw.createWorkspace()).id;
  const db = gw.database.db;
  for (let i = 0; i < 25; i++) await aUser(db, ws, `u${String(i).padStart(2, '0')}`, { traits: { plan: i % 2 ? 'pro' : 'free', n: i } });
});

describe('create, read, list', () => {
  it('creates a draft and reads it with its size', async () => {
    const res = await gw.api.post(base()).send({ name: 'Pro', type: 'dynamic', definition: { trait: 'plan', op: 'eq', value: 'pro' }, schedule: { cron: '0 * * * *', timezone: 'Europe/Paris' } }).expect(201);
    expect(res.body).toMatchObject({ name: 'Pro', type: 'dynamic', status: 'draft', size: 0, schedule: { cron: '0 * * * *', timezone: 'Europe/Paris' } });
    const got = await gw.api.get(`${base()}/${res.body.id}`).expect(200);
    expect(got.body.size).toBe(0);
  });
  it('rejects bad shapes', async () => {
    await gw.api.post(base()).send({ name: 'x', type: 'dynamic' }).expect(400);
    await gw.api.post(base()).send({ name: 'x', type: 'static', definition: { trait: 'a', op: 'exists' } }).expect(400);
    const cron = await gw.api.post(base()).send({ name: 'x', type: 'dynamic', definition: { trait: 'a', op: 'exists' }, schedule: { cron: 'every day' } }).expect(400);
    expect(cron.body.error.details[0].path).toBe('schedule.cron');
    await gw.api.post(base()).send({ name: 'x', type: 'dynamic', definition: { trait: 'a', op: 'exists' }, schedule: { cron: '* * * * *', timezone: 'Mars/Base' } }).expect(400);
    await gw.api.get(`${base()}/not-a-uuid`).expect(404);
  });
  it('hides archived segments unless asked', async () => {
    const id = await createSegment(gw, ws, { type: 'static', name: 'To archive' });
    await gw.api.patch(`${base()}/${id}`).send({ status: 'archived' }).expect(200);
    const list = await gw.api.get(base()).expect(200);
    expect(list.body.segments.map((s: { id: string }) => s.id)).not.toContain(id);
    const archived = await gw.api.get(`${base()}?status=archived`).expect(200);
    expect(archived.body.segments.map((s: { id: string }) => s.id)).toEqual([id]);
    await gw.api.get(`${base()}/${id}`).expect(200); // still readable
  });
});

describe('lifecycle and full evaluation', () => {
  it('activating evaluates fully, writes the diff, logs it and records the size; no effect jobs', async () => {
    const id = await createSegment(gw, ws, { type: 'dynamic', definition: { trait: 'n', op: 'lt', value: 10 } });
    expect(await memberIds(gw.database.db, ws, id)).toEqual([]); // draft: not evaluated
    const res = await gw.api.patch(`${base()}/${id}`).send({ status: 'active' }).expect(200);
    expect(res.body).toMatchObject({ status: 'active', size: 10, evaluation: { size: 10, entered: 10, exited: 0 } });

    // changing the definition of an active segment re-evaluates: only the difference is written
    gw.clock.advance(1000);
    const changed = await gw.api.patch(`${base()}/${id}`).send({ definition: { trait: 'n', op: 'lt', value: 12 } }).expect(200);
    expect(changed.body.evaluation).toEqual({ size: 12, entered: 2, exited: 0 });
    gw.clock.advance(1000);
    const again = await gw.api.post(`${base()}/${id}/evaluate`).expect(200);
    expect(again.body).toEqual({ size: 12, entered: 0, exited: 0 });

    const log = await gw.database.db('membership_log').where({ workspace_id: ws, segment_id: id });
    expect(log).toHaveLength(12);
    expect(new Set(log.map((l) => l.cause))).toEqual(new Set(['full']));
    const jobs = await gw.database.db.raw(`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'segment.membership'`);
    expect(jobs.rows[0].n).toBe(0);

    const history = await gw.api.get(`${base()}/${id}/history`).expect(200);
    expect(history.body.history.map((h: { size: number; entered: number }) => [h.size, h.entered])).toEqual([[12, 0], [12, 2], [10, 10]]);
    gw.clock.set(NOW);
  });

  it('paused keeps its members and is not re-evaluated on change; re-activating evaluates', async () => {
    const id = await createSegment(gw, ws, { type: 'dynamic', definition: { trait: 'n', op: 'lt', value: 3 } }, true);
    await gw.api.patch(`${base()}/${id}`).send({ status: 'paused' }).expect(200);
    const paused = await gw.api.patch(`${base()}/${id}`).send({ definition: { trait: 'n', op: 'lt', value: 5 } }).expect(200);
    expect(paused.body.size).toBe(3);
    expect(paused.body.evaluation).toBeUndefined();
    const active = await gw.api.patch(`${base()}/${id}`).send({ status: 'active' }).expect(200);
    expect(active.body.evaluation).toEqual({ size: 5, entered: 2, exited: 0 });
  });

  it('an archived segment must be unarchived (to paused or draft) before activation', async () => {
    const id = await createSegment(gw, ws, { type: 'dynamic', definition: { trait: 'n', op: 'lt', value: 3 } }, true);
    await gw.api.patch(`${base()}/${id}`).send({ status: 'archived' }).expect(200);
    const refused = await gw.api.patch(`${base()}/${id}`).send({ status: 'active' }).expect(409);
    expect(refused.body.error.code).toBe('archived');
    await gw.api.post(`${base()}/${id}/evaluate`).expect(409);
    await gw.api.patch(`${base()}/${id}`).send({ status: 'paused' }).expect(200);
    await gw.api.patch(`${base()}/${id}`).send({ status: 'active' }).expect(200);
    const draft = await createSegment(gw, ws, { type: 'static' });
    await gw.api.patch(`${base()}/${draft}`).send({ status: 'paused' }).expect(409);
  });

  it('members are paged with a cursor', async () => {
    const id = await createSegment(gw, ws, { type: 'dynamic', definition: { trait: 'n', op: 'exists' } }, true);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { members: { userId: string; enteredAt: string }[]; nextCursor: string | null } } = await gw.api.get(`${base()}/${id}/members`).query({ limit: 10, ...(cursor ? { cursor } : {}) }).expect(200);
      seen.push(...res.body.members.map((m: { userId: string; enteredAt: string }) => m.userId));
      expect(res.body.members[0].enteredAt).toBe(NOW.toISOString());
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });

  it('everyone segments list every user without a stored list', async () => {
    const id = await createSegment(gw, ws, { type: 'everyone' }, true);
    expect((await gw.api.get(`${base()}/${id}`).expect(200)).body.size).toBe(25);
    expect(await memberIds(gw.database.db, ws, id)).toEqual([]);
    const page = await gw.api.get(`${base()}/${id}/members?limit=5`).expect(200);
    expect(page.body.members).toHaveLength(5);
  });
});

describe('segment in segment', () => {
  it('reads other segments, rejects self references and cycles', async () => {
    const pro = await createSegment(gw, ws, { type: 'dynamic', definition: { trait: 'plan', op: 'eq', value: 'pro' } }, true);
    const everyone = await createSegment(gw, ws, { type: 'everyone' });
    const both = await createSegment(gw, ws, { type: 'dynamic', definition: { all: [{ segment: pro }, { segment: everyone }, { trait: 'n', op: 'lt', value: 6 }] } }, true);
    expect(await memberIds(gw.database.db, ws, both)).toEqual(['u01', 'u03', 'u05']);
    const notPro = await createSegment(gw, ws, { type: 'dynamic', definition: { segment: pro, member: false } }, true);
    expect(await memberIds(gw.database.db, ws, notPro)).toHaveLength(13);

    // a change in the referenced segment reaches its dependents
    await gw.api.patch(`${base()}/${pro}`).send({ definition: { trait: 'n', op: 'lt', value: 2 } }).expect(200);
    expect(await memberIds(gw.database.db, ws, both)).toEqual(['u00', 'u01']);
    expect(await memberIds(gw.database.db, ws, notPro)).toHaveLength(23);

    const self = await gw.api.patch(`${base()}/${pro}`).send({ definition: { segment: pro } }).expect(400);
    expect(self.body.error.message).toMatch(/itself/);
    const cycle = await gw.api.patch(`${base()}/${pro}`).send({ definition: { any: [{ trait: 'x', op: 'exists' }, { not: { segment: both } }] } }).expect(400);
    expect(cycle.body.error.message).toMatch(/cycle/);
    await gw.api.post(base()).send({ name: 'x', type: 'dynamic', definition: { segment: '00000000-0000-4000-8000-000000000000' } }).expect(400);
  });
});

describe('preview and explain', () => {
  it('previews an unsaved definition', async () => {
    const res = await gw.api.post(`${base()}/preview`).send({ definition: { trait: 'n', op: 'gte', value: 20 }, sampleSize: 2 }).expect(200);
    expect(res.body).toEqual({ count: 5, sample: ['u20', 'u21'] });
  });
  it('explains each condition for one user with the deciding value', async () => {
    const id = await createSegment(gw, ws, { type: 'dynamic', definition: { all: [{ trait: 'plan', op: 'eq', value: 'pro' }, { not: { trait: 'n', op: 'gt', value: 5 } }, { event: 'Upgrade', performed: false }] } }, true);
    const res = await gw.api.get(`${base()}/${id}/explain/u07`).expect(200);
    expect(res.body).toMatchObject({ userId: 'u07', member: false, matched: false });
    const [plan, not, event] = res.body.conditions.children;
    expect(plan).toMatchObject({ path: 'definition.all.0', result: true, value: 'pro' });
    expect(not).toMatchObject({ group: 'not', result: false, children: [{ result: true, value: 7 }] });
    expect(event).toMatchObject({ result: true, value: 0 });
    await gw.api.get(`${base()}/${id}/explain/nobody`).expect(404);
  });
});

describe('a segment deleted by hand (no endpoint deletes one: archiving is the delete)', () => {
  it('takes its members and log rows with it, and nothing of another segment', async () => {
    const db = gw.database.db;
    const doomed = await createSegment(gw, ws, { type: 'static', name: 'Doomed' });
    const kept = await createSegment(gw, ws, { type: 'static', name: 'Kept' });
    for (const id of [doomed, kept]) await gw.api.post(`${base()}/${id}/members`).send({ userIds: ['u01', 'u02'] }).expect(200);
    await db('segments').where({ workspace_id: ws, id: doomed }).del();
    const left = async (table: string, segmentId: string) => Number((await db(table).where({ workspace_id: ws, segment_id: segmentId }).count({ n: '*' }))[0].n);
    expect([await left('segment_members', doomed), await left('membership_log', doomed)]).toEqual([0, 0]);
    expect([await left('segment_members', kept), await left('membership_log', kept)]).toEqual([2, 2]);
  });
});

describe('tenant isolation', () => {
  it('workspace B ids are not reachable through workspace A paths', async () => {
    const b = (await gw.createWorkspace('B')).id;
    await aUser(gw.database.db, b, 'b-user', { traits: { plan: 'pro' } });
    const bSeg = (await gw.api.post(`/api/workspaces/${b}/segments`).send({ name: 'B', type: 'static' }).expect(201)).body.id;
    const paths: [string, string, unknown?][] = [
      ['get', `${base()}/${bSeg}`],
      ['patch', `${base()}/${bSeg}`, { name: 'hacked' }],
      ['post', `${base()}/${bSeg}/evaluate`],
      ['get', `${base()}/${bSeg}/members`],
      ['post', `${base()}/${bSeg}/members`, { userIds: ['b-user'] }],
      ['delete', `${base()}/${bSeg}/members`, { userIds: ['b-user'] }],
      ['post', `${base()}/${bSeg}/subtract`, { segmentId: bSeg }],
      ['get', `${base()}/${bSeg}/explain/b-user`],
      ['get', `${base()}/${bSeg}/history`],
    ];
    for (const [method, path, body] of paths) {
      const res = await (gw.api as unknown as Record<string, (p: string) => import('supertest').Test>)[method](path).send(body as object);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const mine = await createSegment(gw, ws, { type: 'static' });
    const sub = await gw.api.post(`${base()}/${mine}/subtract`).send({ segmentId: bSeg });
    expect(sub.status).toBe(400);
    const added = await gw.api.post(`${base()}/${mine}/members`).send({ userIds: ['b-user'] }).expect(200);
    expect(added.body).toMatchObject({ added: 0, unknown: ['b-user'] });
    await gw.api.post(base()).send({ name: 'x', type: 'dynamic', definition: { segment: bSeg } }).expect(400);
    expect((await gw.api.post(`${base()}/preview`).send({ definition: { trait: 'plan', op: 'eq', value: 'pro' } })).body.sample).not.toContain('b-user');
  });
});
