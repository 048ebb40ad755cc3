import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aUser, createSegment, memberIds } from './factories.js';

const gw = useGateway();
let ws: string;
const base = () => `/api/workspaces/${ws}/segments`;

beforeAll(async () => {
  ws = (await gw.createWorkspace()).id;
  const db = gw.database.db;
  for (const [id, email, plan] of [['a', 'a@x.io', 'pro'], ['b', 'B@X.io', 'free'], ['c', 'c@x.io', 'pro'], ['d', null, 'free']] as const) {
    await aUser(db, ws, id, { traits: { plan, ...(email ? { email } : {}) } });
  }
});

describe('static segments', () => {
  it('adds, replaces and removes by user id; unknown ids are reported, not created', async () => {
    const id = await createSegment(gw, ws, { type: 'static' });
    const added = await gw.api.post(`${base()}/${id}/members`).send({ userIds: ['a', 'b', 'ghost', 'a'] }).expect(200);
    expect(added.body).toEqual({ added: 2, removed: 0, size: 2, unknown: ['ghost'] });
    const replaced = await gw.api.post(`${base()}/${id}/members`).send({ userIds: ['b', 'c'], mode: 'replace' }).expect(200);
    expect(replaced.body).toMatchObject({ added: 1, removed: 1, size: 2 });
    expect(await memberIds(gw.database.db, ws, id)).toEqual(['b', 'c']);
    const removed = await gw.api.delete(`${base()}/${id}/members`).send({ userIds: ['c', 'ghost'] }).expect(200);
    expect(removed.body).toMatchObject({ added: 0, removed: 1, size: 1 });
    expect(await gw.database.db('users').where({ workspace_id: ws, user_id: 'ghost' })).toHaveLength(0);
    const log = await gw.database.db('membership_log').where({ workspace_id: ws, segment_id: id }).orderBy('id');
    expect(log.map((l) => `${l.change}:${l.user_id}:${l.cause}`)).toEqual(['entered:a:manual', 'entered:b:manual', 'entered:c:manual', 'exited:a:manual', 'exited:c:manual']);
  });

  it('subtracts another segment', async () => {
    const id = await createSegment(gw, ws, { type: 'static' });
    await gw.api.post(`${base()}/${id}/members`).send({ userIds: ['a', 'b', 'c', 'd'] }).expect(200);
    const pro = await createSegment(gw, ws, { type: 'dynamic', definition: { trait: 'plan', op: 'eq', value: 'pro' } }, true);
    const res = await gw.api.post(`${base()}/${id}/subtract`).send({ segmentId: pro }).expect(200);
    expect(res.body).toMatchObject({ removed: 2, size: 2 });
    expect(await memberIds(gw.database.db, ws, id)).toEqual(['b', 'd']);
    const everyone = await createSegment(gw, ws, { type: 'everyone' });
    await gw.api.post(`${base()}/${id}/subtract`).send({ segmentId: everyone }).expect(200);
    expect(await memberIds(gw.database.db, ws, id)).toEqual([]);
  });

  it('populates from a definition run once (add, then remove)', async () => {
    const id = await createSegment(gw, ws, { type: 'static' });
    const add = await gw.api.post(`${base()}/${id}/members`).send({ definition: { trait: 'plan', op: 'eq', value: 'free' }, mode: 'add' }).expect(200);
    expect(add.body).toMatchObject({ added: 2, size: 2 });
    await gw.api.post(`${base()}/${id}/members`).send({ userIds: ['a'] }).expect(200);
    const remove = await gw.api.post(`${base()}/${id}/members`).send({ definition: { trait: 'email', op: 'not_exists' }, mode: 'remove' }).expect(200);
    expect(remove.body).toMatchObject({ removed: 1, size: 2 });
    expect(await memberIds(gw.database.db, ws, id)).toEqual(['a', 'b']);
    const bad = await gw.api.post(`${base()}/${id}/members`).send({ definition: { trait: 'plan', op: 'gt', value: 'x' }, mode: 'add' }).expect(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toContain('definition.value');
  });

  it('imports a CSV of ids without a header, with a userId/user_id column, or by email', async () => {
    const id = await createSegment(gw, ws, { type: 'static' });
    const plain = await gw.api.post(`${base()}/${id}/members`).set('Content-Type', 'text/csv').send('a\nghost\n\nb\n').expect(200);
    expect(plain.body).toMatchObject({ added: 2, unknown: ['ghost'] });
    const withHeader = await gw.api.post(`${base()}/${id}/members/import?mode=replace`).set('Content-Type', 'text/csv').send('name,user_id\nCee,c\nX,nope\n').expect(200);
    expect(withHeader.body).toMatchObject({ added: 1, removed: 2, size: 1, unknown: ['nope'] });
    const byEmail = await gw.api.post(`${base()}/${id}/members`).set('Content-Type', 'text/csv').send('Email\nb@x.io\nA@X.IO\nnobody@x.io\n').expect(200);
    expect(byEmail.body).toMatchObject({ added: 2, unknown: ['nobody@x.io'] });
    expect(await memberIds(gw.database.db, ws, id)).toEqual(['a', 'b', 'c']);
    await gw.api.post(`${base()}/${id}/members`).set('Content-Type', 'text/csv').send('x,y\n1,2\n').expect(400);
  });

  it('refuses list operations on dynamic or archived segments', async () => {
    const dyn = await createSegment(gw, ws, { type: 'dynamic', definition: { trait: 'plan', op: 'exists' } });
    await gw.api.post(`${base()}/${dyn}/members`).send({ userIds: ['a'] }).expect(409);
    const archived = await createSegment(gw, ws, { type: 'static' });
    await gw.api.patch(`${base()}/${archived}`).send({ status: 'archived' }).expect(200);
    await gw.api.post(`${base()}/${archived}/members`).send({ userIds: ['a'] }).expect(409);
  });
});
