import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { evaluateUntilIdle } from '../../src/segments/incremental.js';
import { createSegment, memberIds } from './factories.js';

const gw = useGateway();
let ws: { id: string; ingestKey: string };
const seg: Record<string, string> = {};
const NOW = new Date('2026-06-15T12:00:00Z');

const send = (...batch: Record<string, unknown>[]) =>
  gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({ batch: batch.map((m) => ({ timestamp: NOW.toISOString(), ...m })) }).expect(200);
const settle = () => evaluateUntilIdle(gw.database.db, () => gw.clock.now());
const jobs = async () => (await gw.database.db.raw(
  `select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
    where t.identifier = 'segment.membership' order by j.id`)).rows.map((r: { payload: unknown }) => r.payload);

beforeAll(async () => {
  gw.clock.set(NOW);
  ws = await gw.createWorkspace();
  seg.pro = await createSegment(gw, ws.id, { type: 'dynamic', definition: { trait: 'plan', op: 'eq', value: 'pro' } }, true);
  seg.active = await createSegment(gw, ws.id, { type: 'dynamic', definition: { event: 'Upgrade', count: { op: 'gte', value: 2 }, withinDays: 7 } }, true);
  seg.both = await createSegment(gw, ws.id, { type: 'dynamic', definition: { all: [{ segment: seg.pro }, { segment: seg.active }] } }, true);
  seg.noPlan = await createSegment(gw, ws.id, { type: 'dynamic', definition: { trait: 'plan', op: 'not_exists' } }, true);
  seg.vip = await createSegment(gw, ws.id, { type: 'static' }, true);
  seg.vipPro = await createSegment(gw, ws.id, { type: 'dynamic', definition: { all: [{ segment: seg.vip }, { trait: 'plan', op: 'exists' }] } }, true);
  seg.paused = await createSegment(gw, ws.id, { type: 'dynamic', definition: { trait: 'plan', op: 'exists' } }, true);
  await gw.api.patch(`/api/workspaces/${ws.id}/segments/${seg.paused}`).send({ status: 'paused' }).expect(200);
  // Effect jobs are written for the changes a destination subscribes to: these four, both ways; vipPro's exits only.
  const hook = 'https://hooks.example.com/segments';
  await gw.api.post(`/api/workspaces/${ws.id}/webhooks`).send({ url: hook, segmentIds: [seg.pro, seg.active, seg.both], events: ['segment.entered', 'segment.exited'] }).expect(201);
  await gw.api.post(`/api/workspaces/${ws.id}/slack`).send({ webhookUrl: 'https://hooks.slack.com/services/T0/B0/x', segmentIds: [seg.noPlan], events: ['segment.entered', 'segment.exited'] }).expect(201);
  await gw.api.post(`/api/workspaces/${ws.id}/webhooks`).send({ url: hook, segmentIds: [seg.vipPro], events: ['segment.exited'] }).expect(201);
});

describe('incremental evaluation', () => {
  it('a new user enters the segments that match, with effect jobs in the same transaction', async () => {
    await send({ type: 'track', userId: 'newbie', event: 'Viewed' });
    await settle();
    expect(await memberIds(gw.database.db, ws.id, seg.noPlan)).toEqual(['newbie']);
    expect(await jobs()).toEqual([expect.objectContaining({ workspaceId: ws.id, segmentId: seg.noPlan, userId: 'newbie', change: 'entered', at: NOW.toISOString() })]);
    const [log] = await gw.database.db('membership_log').where({ workspace_id: ws.id, segment_id: seg.noPlan });
    expect(log.cause).toBe('incremental');
    expect((await jobs())[0].logId).toBe(Number(log.id));
    expect(await gw.database.db('dirty_users')).toHaveLength(0);
  });

  it('traits, events and referenced segments move users in and out', async () => {
    await send({ type: 'identify', userId: 'newbie', traits: { plan: 'Pro' } });
    await settle();
    expect(await memberIds(gw.database.db, ws.id, seg.pro)).toEqual(['newbie']);
    expect(await memberIds(gw.database.db, ws.id, seg.noPlan)).toEqual([]);

    await send({ type: 'track', userId: 'newbie', event: 'Upgrade' }, { type: 'track', userId: 'newbie', event: 'Upgrade' });
    await settle();
    expect(await memberIds(gw.database.db, ws.id, seg.active)).toEqual(['newbie']);
    expect(await memberIds(gw.database.db, ws.id, seg.both)).toEqual(['newbie']); // evaluated after the segments it reads

    await send({ type: 'identify', userId: 'newbie', traits: { plan: 'free' } });
    await settle();
    expect(await memberIds(gw.database.db, ws.id, seg.pro)).toEqual([]);
    expect(await memberIds(gw.database.db, ws.id, seg.both)).toEqual([]);
    const changes = (await jobs()).map((j: { segmentId: string; change: string }) => `${Object.keys(seg).find((k) => seg[k] === j.segmentId)}:${j.change}`);
    expect(changes).toEqual(['noPlan:entered', 'pro:entered', 'noPlan:exited', 'active:entered', 'both:entered', 'pro:exited', 'both:exited']);
  });

  it('a user back after a while leaves "seen more than 7 days ago" and enters "seen within a day"', async () => {
    const dormant = await createSegment(gw, ws.id, { type: 'dynamic', definition: { attribute: 'lastSeenAt', op: 'more_than_ago', days: 7 } }, true);
    const recent = await createSegment(gw, ws.id, { type: 'dynamic', definition: { attribute: 'lastSeenAt', op: 'within_last', days: 1 } }, true);
    const tenDaysAgo = new Date(NOW.getTime() - 10 * 86_400_000).toISOString();
    await send({ type: 'track', userId: 'sleeper', event: 'Viewed', timestamp: tenDaysAgo });
    await settle();
    expect(await memberIds(gw.database.db, ws.id, dormant)).toEqual(['sleeper']);
    expect(await memberIds(gw.database.db, ws.id, recent)).not.toContain('sleeper');
    await send({ type: 'track', userId: 'sleeper', event: 'Viewed' });
    await settle();
    expect(await memberIds(gw.database.db, ws.id, dormant)).toEqual([]);
    expect(await memberIds(gw.database.db, ws.id, recent)).toContain('sleeper');
  });

  it('a paused segment keeps its members and is not re-evaluated', async () => {
    expect(await memberIds(gw.database.db, ws.id, seg.paused)).toEqual([]);
  });

  it('a change to a static list reaches the segments that read it', async () => {
    const before = (await jobs()).length;
    await gw.api.post(`/api/workspaces/${ws.id}/segments/${seg.vip}/members`).send({ userIds: ['newbie'] }).expect(200);
    await settle();
    expect(await memberIds(gw.database.db, ws.id, seg.vipPro)).toEqual(['newbie']);
    expect(await jobs()).toHaveLength(before); // nobody subscribes to vipPro's entries: no effect job

    await gw.api.delete(`/api/workspaces/${ws.id}/segments/${seg.vip}/members`).send({ userIds: ['newbie'] }).expect(200);
    await settle();
    expect(await memberIds(gw.database.db, ws.id, seg.vipPro)).toEqual([]);
    expect((await jobs()).slice(before)).toEqual([expect.objectContaining({ segmentId: seg.vipPro, userId: 'newbie', change: 'exited' })]);
  });

  it('several evaluators can share the queue', async () => {
    await send(...Array.from({ length: 60 }, (_, i) => ({ type: 'identify', userId: `p${i}`, traits: { plan: 'pro' } })));
    const counts = await Promise.all([1, 2, 3].map(() => evaluateUntilIdle(gw.database.db, () => gw.clock.now(), 7)));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
    expect(await memberIds(gw.database.db, ws.id, seg.pro)).toHaveLength(60);
  });
});
