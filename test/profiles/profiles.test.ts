import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aGroup, anIdentify, aTrack } from '../ingest/messages.js';

const gw = useGateway();
let ws: { id: string; ingestKey: string };

const batch = (...messages: unknown[]) => gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({ batch: messages }).expect(200);
const one = (message: unknown) => gw.http.post('/v1/segment').auth(ws.ingestKey, '').send(message as object).expect(200);
const userRow = (userId: string) => gw.database.db('users').where({ workspace_id: ws.id, user_id: userId }).first();
const profile = (userId: string) => gw.api.get(`/api/workspaces/${ws.id}/users/${encodeURIComponent(userId)}`);
const countsOf = async (userId: string) =>
  (await gw.database.db('event_counts').where({ workspace_id: ws.id, user_id: userId }).orderBy(['event', 'day']))
    .map((c) => [c.event, new Date(c.day).toISOString().slice(0, 10), c.count]);

beforeAll(async () => {
  ws = await gw.createWorkspace('Profiles');
});

describe('traits: the later timestamp wins per trait', () => {
  it('an older identify arriving late does not roll a trait back, but adds the traits it alone carries', async () => {
    await one(anIdentify({ userId: 'ooo-1', timestamp: '2026-11-20T12:00:00Z', traits: { plan: 'pro', seats: 10 } }));
    await one(anIdentify({ userId: 'ooo-1', timestamp: '2026-11-20T09:00:00Z', traits: { plan: 'free', seats: 1, company: 'Initech' } }));
    expect((await userRow('ooo-1')).traits).toEqual({ plan: 'pro', seats: 10, company: 'Initech' });
    await one(anIdentify({ userId: 'ooo-1', timestamp: '2026-11-20T13:00:00Z', traits: { plan: 'enterprise' } }));
    expect((await userRow('ooo-1')).traits).toEqual({ plan: 'enterprise', seats: 10, company: 'Initech' });
  });

  it('holds inside one batch, whatever the order of the messages', async () => {
    await batch(
      anIdentify({ userId: 'ooo-2', timestamp: '2026-11-20T12:00:00Z', traits: { plan: 'pro' } }),
      anIdentify({ userId: 'ooo-2', timestamp: '2026-11-20T08:00:00Z', traits: { plan: 'free', 'Favourite Colour': 'blue' } }),
    );
    expect((await userRow('ooo-2')).traits).toEqual({ plan: 'pro', 'Favourite Colour': 'blue' });
  });

  it('keeps first and last seen as the earliest and latest event times', async () => {
    await one(aTrack({ userId: 'seen-1', timestamp: '2026-11-15T10:00:00Z' }));
    await one(aTrack({ userId: 'seen-1', timestamp: '2026-11-10T10:00:00Z' }));
    await one(aTrack({ userId: 'seen-1', timestamp: '2026-11-18T10:00:00Z' }));
    const u = await userRow('seen-1');
    expect(u.first_seen_at.toISOString()).toBe('2026-11-10T10:00:00.000Z');
    expect(u.last_seen_at.toISOString()).toBe('2026-11-18T10:00:00.000Z');
  });

  it('merges account traits from group calls the same way and links the member', async () => {
    await one(aGroup({ userId: 'grp-1', groupId: 'acct-ooo', timestamp: '2026-11-20T12:00:00Z', traits: { plan: 'pro', employees: 250 } }));
    await one(aGroup({ userId: 'grp-2', groupId: 'acct-ooo', timestamp: '2026-11-19T12:00:00Z', traits: { plan: 'free', industry: 'Retail' } }));
    const account = await gw.database.db('accounts').where({ workspace_id: ws.id, group_id: 'acct-ooo' }).first();
    expect(account.traits).toEqual({ plan: 'pro', employees: 250, industry: 'Retail' });
    const members = await gw.database.db('account_members').where({ workspace_id: ws.id, group_id: 'acct-ooo' }).orderBy('user_id');
    expect(members.map((m) => [m.user_id, m.joined_at.toISOString()])).toEqual([
      ['grp-1', '2026-11-20T12:00:00.000Z'],
      ['grp-2', '2026-11-19T12:00:00.000Z'],
    ]);
    // A group call does not write account traits onto the user.
    expect((await userRow('grp-1')).traits).toEqual({});
  });
});

describe('event counters', () => {
  it('counts track events per user, per event name, per UTC day', async () => {
    await batch(
      aTrack({ userId: 'cnt-1', event: 'Clicked Upgrade', timestamp: '2026-11-20T00:00:01Z' }),
      aTrack({ userId: 'cnt-1', event: 'Clicked Upgrade', timestamp: '2026-11-20T23:59:59Z' }),
      aTrack({ userId: 'cnt-1', event: 'Clicked Upgrade', timestamp: '2026-11-21T00:00:00Z' }),
      aTrack({ userId: 'cnt-1', event: 'Invite Sent', timestamp: '2026-11-20T10:00:00+05:00' }), // 05:00 UTC
      aTrack({ userId: 'cnt-2', event: 'Clicked Upgrade', timestamp: '2026-11-20T10:00:00Z' }),
      anIdentify({ userId: 'cnt-1' }),
    );
    await one(aTrack({ userId: 'cnt-1', event: 'Clicked Upgrade', timestamp: '2026-11-20T12:00:00Z' }));
    expect(await countsOf('cnt-1')).toEqual([
      ['Clicked Upgrade', '2026-11-20', 3],
      ['Clicked Upgrade', '2026-11-21', 1],
      ['Invite Sent', '2026-11-20', 1],
    ]);
    expect(await countsOf('cnt-2')).toEqual([['Clicked Upgrade', '2026-11-20', 1]]);
  });

  it('marks changed users dirty for the segment engine with what changed', async () => {
    await one(aTrack({ userId: 'dirty-1', event: 'Report Exported' }));
    await one(anIdentify({ userId: 'dirty-1', traits: { plan: 'pro' } }));
    const row = await gw.database.db('dirty_users').where({ workspace_id: ws.id, user_id: 'dirty-1' }).first();
    expect(row.inputs).toEqual(expect.arrayContaining(['event:Report Exported', 'trait:plan']));
  });
});

describe('identity: anonymous visitor → identified user', () => {
  it('keeps anonymous activity on an anonymous profile until an identify links it', async () => {
    await one(aTrack({ userId: undefined, anonymousId: 'anon-a', event: 'Pricing Viewed', timestamp: '2026-11-01T09:00:00Z' }));
    await one(anIdentify({ userId: undefined, anonymousId: 'anon-a', timestamp: '2026-11-01T09:05:00Z', traits: { referrer: 'ads', plan: 'free' } }));
    const anon = await gw.database.db('anonymous_profiles').where({ workspace_id: ws.id, anonymous_id: 'anon-a' }).first();
    expect(anon).toMatchObject({ user_id: null, traits: { referrer: 'ads', plan: 'free' } });
    expect(await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'merged-1' })).toHaveLength(0);
    expect(await gw.database.db('event_counts').where({ workspace_id: ws.id, user_id: 'merged-1' })).toHaveLength(0);
  });

  it('moves traits, first seen, events and event counts to the user on identify with both ids', async () => {
    await one(anIdentify({ userId: 'merged-1', anonymousId: 'anon-a', timestamp: '2026-11-03T10:00:00Z', traits: { plan: 'pro', email: 'm@example.com' } }));
    const user = await userRow('merged-1');
    // The user's own newer plan wins; the anonymous-only trait moves over.
    expect(user.traits).toEqual({ plan: 'pro', email: 'm@example.com', referrer: 'ads' });
    expect(user.first_seen_at.toISOString()).toBe('2026-11-01T09:00:00.000Z');
    const events = await gw.database.db('events').where({ workspace_id: ws.id, anonymous_id: 'anon-a' }).orderBy('id');
    expect(events.map((e) => [e.type, e.user_id])).toEqual([['track', 'merged-1'], ['identify', 'merged-1'], ['identify', 'merged-1']]);
    expect(await countsOf('merged-1')).toEqual([['Pricing Viewed', '2026-11-01', 1]]);
    const anon = await gw.database.db('anonymous_profiles').where({ workspace_id: ws.id, anonymous_id: 'anon-a' }).first();
    expect(anon.user_id).toBe('merged-1');
    expect(anon.merged_at).toBeInstanceOf(Date);
    const dirty = await gw.database.db('dirty_users').where({ workspace_id: ws.id, user_id: 'merged-1' }).first();
    expect(dirty.inputs).toContain('*');
  });

  it('lands later anonymous-only messages on the linked user', async () => {
    await one(aTrack({ userId: undefined, anonymousId: 'anon-a', event: 'Pricing Viewed', timestamp: '2026-11-04T10:00:00Z' }));
    const e = await gw.database.db('events').where({ workspace_id: ws.id, anonymous_id: 'anon-a', type: 'track' }).orderBy('id', 'desc').first();
    expect(e.user_id).toBe('merged-1');
    expect(await countsOf('merged-1')).toEqual([['Pricing Viewed', '2026-11-01', 1], ['Pricing Viewed', '2026-11-04', 1]]);
  });

  it('does not move the visitor again when the same anonymousId later meets another user', async () => {
    await one(anIdentify({ userId: 'other-1', anonymousId: 'anon-a', traits: { plan: 'free' } }));
    expect(await countsOf('other-1')).toEqual([]);
    expect((await userRow('other-1')).traits).toEqual({ plan: 'free' });
    expect(await countsOf('merged-1')).toHaveLength(2);
  });

  it('links an anonymousId first seen together with a userId, so its later anonymous-only messages land on the user', async () => {
    await one(aTrack({ userId: 'linked-first', anonymousId: 'anon-new', event: 'Opened App', timestamp: '2026-11-06T10:00:00Z' }));
    const anon = await gw.database.db('anonymous_profiles').where({ workspace_id: ws.id, anonymous_id: 'anon-new' }).first();
    expect(anon.user_id).toBe('linked-first');
    await one(aTrack({ userId: undefined, anonymousId: 'anon-new', event: 'Opened App', timestamp: '2026-11-06T11:00:00Z' }));
    expect(await countsOf('linked-first')).toEqual([['Opened App', '2026-11-06', 2]]);
  });

  it('merges within one batch: anonymous events, then the identify that links them', async () => {
    await batch(
      aTrack({ userId: undefined, anonymousId: 'anon-b', event: 'Signed Up', timestamp: '2026-11-05T10:00:00Z' }),
      anIdentify({ userId: 'merged-2', anonymousId: 'anon-b', timestamp: '2026-11-05T10:01:00Z', traits: { plan: 'starter' } }),
    );
    expect(await countsOf('merged-2')).toEqual([['Signed Up', '2026-11-05', 1]]);
    const events = await gw.database.db('events').where({ workspace_id: ws.id, anonymous_id: 'anon-b' });
    expect(events.every((e) => e.user_id === 'merged-2')).toBe(true);
  });
});

describe('GET /api/workspaces/:id/users/:userId', () => {
  it('returns the profile in the contract shape', async () => {
    await batch(
      anIdentify({ userId: 'profile 1', timestamp: '2026-11-10T10:00:00Z', traits: { plan: 'pro', 'Logins Count': 5, beta: true } }),
      aGroup({ userId: 'profile 1', groupId: 'acct-profile', timestamp: '2026-11-11T10:00:00Z', traits: { name: 'Globex' } }),
      aTrack({ userId: 'profile 1', timestamp: '2026-11-12T10:00:00Z' }),
    );
    const res = await profile('profile 1').expect(200);
    expect(res.body).toMatchObject({
      userId: 'profile 1',
      traits: { plan: 'pro', 'Logins Count': 5, beta: true },
      accounts: [{ groupId: 'acct-profile', traits: { name: 'Globex' }, joinedAt: expect.stringMatching(/^2026-11-11T10:00:00/) }],
      firstSeenAt: '2026-11-10T10:00:00.000Z',
      lastSeenAt: '2026-11-12T10:00:00.000Z',
      lastSurveyResponseAt: null,
      segments: [],
    });
  });

  it('answers 404 for an unknown user, and for an unknown or malformed workspace', async () => {
    expect((await profile('nobody').expect(404)).body).toMatchObject({ error: { code: 'not_found' } });
    await gw.api.get('/api/workspaces/00000000-0000-4000-8000-000000000000/users/profile%201').expect(404);
    await gw.api.get('/api/workspaces/not-a-uuid/users/profile%201').expect(404);
  });

  it('needs the admin token', async () => {
    await gw.http.get(`/api/workspaces/${ws.id}/users/profile%201`).expect(401);
    await gw.http.get(`/api/workspaces/${ws.id}/users/profile%201`).auth(ws.ingestKey, '').expect(401);
  });
});
