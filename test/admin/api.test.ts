import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';

const gw = useGateway();

async function seedSegment(workspaceId: string, name: string, members: string[]) {
  const db = gw.database.db;
  const [seg] = await db('segments').insert({ workspace_id: workspaceId, name, type: 'static', status: 'active' }).returning('id');
  if (members.length) {
    await db('segment_members').insert(members.map((user_id) => ({ workspace_id: workspaceId, segment_id: seg.id, user_id })));
    await db('membership_log').insert(members.map((user_id) => ({ workspace_id: workspaceId, segment_id: seg.id, user_id, change: 'entered', cause: 'manual' })));
  }
  await db('segment_size_history').insert([
    { workspace_id: workspaceId, segment_id: seg.id, at: new Date(Date.now() - 60_000), size: 0, entered: 0, exited: 0, cause: 'full' },
    { workspace_id: workspaceId, segment_id: seg.id, at: new Date(), size: members.length, entered: members.length, exited: 0, cause: 'manual' },
  ]);
  return seg.id as string;
}

describe('admin page endpoints', () => {
  it('lists the events received, newest first, and only newer ones on request', async () => {
    const ws = await gw.createWorkspace('Events');
    const other = await gw.createWorkspace('Other');
    await gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({
      batch: [
        { type: 'identify', userId: 'u1', traits: { plan: 'pro' } },
        { type: 'track', userId: 'u1', event: 'Signed Up' },
        { type: 'group', userId: 'u1', groupId: 'acme', traits: { employees: 50 } },
      ],
    }).expect(200);
    await gw.http.post('/v1/track').auth(other.ingestKey, '').send({ userId: 'x', event: 'Elsewhere' }).expect(200);

    const res = await gw.api.get(`/api/workspaces/${ws.id}/events/recent?limit=10`).expect(200);
    expect(res.body.total).toBe(3);
    expect(res.body.events.map((e: { type: string }) => e.type).sort()).toEqual(['group', 'identify', 'track']);
    expect(res.body.events.find((e: { type: string }) => e.type === 'track')).toMatchObject({ event: 'Signed Up', userId: 'u1' });
    expect(JSON.stringify(res.body)).not.toContain('Elsewhere');

    const newest = Math.max(...res.body.events.map((e: { id: string }) => Number(e.id)));
    await gw.http.post('/v1/track').auth(ws.ingestKey, '').send({ userId: 'u2', event: 'Clicked' }).expect(200);
    const newer = await gw.api.get(`/api/workspaces/${ws.id}/events/recent?afterId=${newest}`).expect(200);
    expect(newer.body.events.map((e: { event: string }) => e.event)).toEqual(['Clicked']);

    await gw.api.get(`/api/workspaces/${ws.id}/events/recent?limit=0`).expect(400);
  });

  it('suggests event names, trait keys, account trait keys and property keys from the workspace data', async () => {
    const ws = await gw.createWorkspace('Names');
    await gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({
      batch: [
        { type: 'identify', userId: 'u1', traits: { plan: 'pro', email: 'a@example.com' } },
        { type: 'track', userId: 'u1', event: 'Clicked Upgrade', properties: { button: 'top' } },
        { type: 'track', userId: 'u1', event: 'Clicked Upgrade' },
        { type: 'track', userId: 'u1', event: 'Viewed Pricing' },
        { type: 'group', userId: 'u1', groupId: 'acme', traits: { employees: 50 } },
      ],
    }).expect(200);
    const res = await gw.api.get(`/api/workspaces/${ws.id}/suggestions`).expect(200);
    expect(res.body.events).toEqual(['Clicked Upgrade', 'Viewed Pricing']); // most used first
    expect(res.body.traits.sort()).toEqual(['email', 'plan']);
    expect(res.body.accountTraits).toEqual(['employees']);
    expect(res.body.properties).toEqual(['button']);
  });

  it('shows a segment’s recent entries and exits, sizes and size history, within the workspace only', async () => {
    const ws = await gw.createWorkspace('Log');
    const other = await gw.createWorkspace('Other log');
    const seg = await seedSegment(ws.id, 'Pros', ['a', 'b']);
    const foreign = await seedSegment(other.id, 'Theirs', ['z']);

    const log = await gw.api.get(`/api/workspaces/${ws.id}/membership-log?segmentId=${seg}`).expect(200);
    expect(log.body.entries.map((e: { userId: string }) => e.userId).sort()).toEqual(['a', 'b']);
    expect(log.body.entries[0]).toMatchObject({ change: 'entered', cause: 'manual' });

    const hist = await gw.api.get(`/api/workspaces/${ws.id}/size-history?segmentIds=${seg},${foreign}`).expect(200);
    expect(hist.body.history[seg].map((p: { size: number }) => p.size)).toEqual([0, 2]); // oldest first
    expect(hist.body.sizes).toEqual({ [seg]: 2 });
    expect(hist.body.history[foreign]).toEqual([]);

    const cross = await gw.api.get(`/api/workspaces/${ws.id}/membership-log?segmentId=${foreign}`).expect(200);
    expect(cross.body.entries).toEqual([]);
    await gw.api.get(`/api/workspaces/${ws.id}/size-history?segmentIds=nope`).expect(400);
  });

  it('needs the admin token or a session', async () => {
    const ws = await gw.createWorkspace('Closed');
    await gw.http.get(`/api/workspaces/${ws.id}/events/recent`).expect(401);
    await gw.http.get(`/api/workspaces/${ws.id}/suggestions`).expect(401);
  });
});
