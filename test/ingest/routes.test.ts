import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aGroup, anIdentify, aTrack } from './messages.js';

const gw = useGateway();
let ws: { id: string; ingestKey: string };

const post = (path: string, body: unknown) => gw.http.post(path).auth(ws.ingestKey, '').send(body as object);
const events = () => gw.database.db('events').where({ workspace_id: ws.id }).orderBy('id');

beforeAll(async () => {
  ws = await gw.createWorkspace('Routes');
});

describe('single-message paths', () => {
  it('POST /v1/segment stores an identify, a track and a group with their Segment fields', async () => {
    const identify = anIdentify({ userId: 'seg-1', extraField: { kept: true } });
    const track = aTrack({ userId: 'seg-1' });
    const group = aGroup({ userId: 'seg-1', groupId: 'acct-seg' });
    for (const m of [identify, track, group]) await post('/v1/segment', m).expect(200, { success: true });

    const rows = await gw.database.db('events').where({ workspace_id: ws.id, user_id: 'seg-1' }).orderBy('id');
    expect(rows.map((r) => [r.type, r.message_id])).toEqual([
      ['identify', identify.messageId], ['track', track.messageId], ['group', group.messageId],
    ]);
    expect(rows[0]).toMatchObject({ traits: identify.traits, context: identify.context, integrations: identify.integrations, extra: { extraField: { kept: true } } });
    expect(rows[0].timestamp.toISOString()).toBe('2026-11-20T10:00:00.000Z');
    expect(rows[0].sent_at.toISOString()).toBe('2026-11-20T10:00:00.100Z');
    expect(rows[0].received_at).toBeInstanceOf(Date);
    expect(rows[1]).toMatchObject({ event: 'Clicked Upgrade', properties: track.properties });
    expect(rows[2]).toMatchObject({ group_id: 'acct-seg', traits: group.traits });
  });

  it.each(['identify', 'track', 'group'])('POST /v1/%s stores the message and implies its type', async (type) => {
    const body = { userId: `typed-${type}`, messageId: `typed-${type}`, event: 'Signed Up', groupId: 'acct-typed', traits: { a: 1 } };
    await post(`/v1/${type}`, body).expect(200, { success: true });
    const row = await gw.database.db('events').where({ workspace_id: ws.id, message_id: `typed-${type}` }).first();
    expect(row.type).toBe(type);
  });

  it.each(['page', 'screen', 'alias'])('POST /v1/%s answers 501 not_supported and stores nothing', async (type) => {
    const before = (await events()).length;
    const res = await post(`/v1/${type}`, { userId: 'u', previousId: 'p', name: 'Home' }).expect(501);
    expect(res.body).toMatchObject({ success: false, code: 'not_supported' });
    expect(res.body.message).toContain(type);
    expect((await events()).length).toBe(before);
  });

  it('answers 501 for an unsupported type sent to /v1/segment', async () => {
    const res = await post('/v1/segment', { type: 'page', userId: 'u', name: 'Home' }).expect(501);
    expect(res.body.code).toBe('not_supported');
  });

  it('generates a messageId when the message has none', async () => {
    await post('/v1/track', { userId: 'no-id', event: 'Opened' }).expect(200);
    const row = await gw.database.db('events').where({ workspace_id: ws.id, user_id: 'no-id' }).first();
    expect(row.message_id).toMatch(/^ag-[0-9a-f-]{36}$/);
  });

  it('answers 200 to a replayed messageId and stores it once', async () => {
    const m = aTrack({ userId: 'replay-1', messageId: 'replayed-once' });
    await post('/v1/segment', m).expect(200, { success: true });
    await post('/v1/segment', { ...m, event: 'Changed Name' }).expect(200, { success: true });
    const rows = await gw.database.db('events').where({ workspace_id: ws.id, message_id: 'replayed-once' });
    expect(rows).toHaveLength(1);
    expect(rows[0].event).toBe('Clicked Upgrade');
    const counts = await gw.database.db('event_counts').where({ workspace_id: ws.id, user_id: 'replay-1' });
    expect(counts.map((c) => c.count)).toEqual([1]);
  });
});

describe('the hot path (served before Express)', () => {
  it('routes like Express did: any letter case, an optional trailing slash, a query string', async () => {
    await post('/v1/Track/', aTrack({ userId: 'hot-1', messageId: 'hot-case' })).expect(200, { success: true });
    await post('/v1/segment?source=web', aTrack({ userId: 'hot-1', messageId: 'hot-query' })).expect(200, { success: true });
    const ids = (await events()).filter((r) => r.user_id === 'hot-1').map((r) => r.message_id);
    expect(ids).toEqual(['hot-case', 'hot-query']);
  });

  it('answers with JSON, a request id and the CORS header; other methods go on to Express', async () => {
    const res = await post('/v1/batch', { batch: [aTrack({ userId: 'hot-2' })] })
      .set('x-request-id', 'req-hot-1')
      .expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['x-request-id']).toBe('req-hot-1');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.body).toEqual({ success: true, accepted: 1, duplicates: 0, rejected: [] });
    const get = await gw.http.get('/v1/segment').expect(404);
    expect(get.body.code).toBe('not_found');
    await gw.http.options('/v1/track').expect(204);
  });
});

describe('400: a clear answer naming the field', () => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    ['missing ids', '/v1/identify', { traits: { a: 1 } }, 'userId'],
    ['empty ids', '/v1/track', { userId: '', anonymousId: '', event: 'x' }, 'userId'],
    ['a track without event', '/v1/track', { userId: 'u' }, 'event'],
    ['a group without groupId', '/v1/group', { userId: 'u', traits: {} }, 'groupId'],
    ['a bad timestamp', '/v1/track', { userId: 'u', event: 'x', timestamp: 'yesterday-ish' }, 'timestamp'],
    ['a bad originalTimestamp', '/v1/segment', { type: 'track', userId: 'u', event: 'x', originalTimestamp: 'nope' }, 'originalTimestamp'],
    ['a sentAt before the year 1', '/v1/identify', { userId: 'u', originalTimestamp: 4275968941969981, sentAt: '-136264-04-04T00:48:28.621Z' }, 'sentAt'],
    ['a timestamp past the year 9999', '/v1/track', { userId: 'u', event: 'x', timestamp: '+010000-01-01T00:00:00Z' }, 'timestamp'],
    ['a messageId over 100 characters', '/v1/track', { userId: 'u', event: 'x', messageId: 'm'.repeat(101) }, 'messageId'],
    ['a message without type', '/v1/segment', { userId: 'u', event: 'x' }, 'type'],
    ['traits that are not an object', '/v1/identify', { userId: 'u', traits: 'pro' }, 'traits'],
  ];
  it.each(cases)('%s', async (_name, path, body, field) => {
    const res = await post(path, body).expect(400);
    expect(res.body).toMatchObject({ success: false, code: 'invalid' });
    expect(res.body.message).toContain(field);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toContain(field);
  });

  it('malformed JSON', async () => {
    const res = await gw.http.post('/v1/segment').auth(ws.ingestKey, '').set('Content-Type', 'application/json').send('{"type": "track", "userId": ').expect(400);
    expect(res.body).toMatchObject({ success: false, code: 'invalid' });
    expect(res.body.message).toMatch(/Malformed JSON/);
  });

  it('a batch that is not {"batch": [...]}', async () => {
    const res = await post('/v1/batch', { messages: [] }).expect(400);
    expect(res.body).toMatchObject({ success: false, code: 'invalid' });
    expect(res.body.issues.map((i: { path: string[] }) => i.path.join('.'))).toContain('batch');
  });

  it('stores nothing for a rejected message', async () => {
    await post('/v1/track', { userId: 'rejected-user' }).expect(400);
    expect(await gw.database.db('events').where({ workspace_id: ws.id, user_id: 'rejected-user' })).toHaveLength(0);
  });
});

describe('413: size limits', () => {
  it('refuses one message over 32 KB', async () => {
    const res = await post('/v1/segment', aTrack({ properties: { blob: 'x'.repeat(33 * 1024) } })).expect(413);
    expect(res.body).toMatchObject({ success: false, code: 'too_large' });
  });

  it('accepts a message just under 32 KB', async () => {
    await post('/v1/segment', aTrack({ userId: 'big-ok', properties: { blob: 'x'.repeat(31 * 1024) } })).expect(200);
  });

  it('refuses a batch over 500 KB', async () => {
    const batch = Array.from({ length: 26 }, () => aTrack({ properties: { blob: 'x'.repeat(20 * 1024) } }));
    const res = await post('/v1/batch', { batch }).expect(413);
    expect(res.body.code).toBe('too_large');
  });

  it('refuses a single webhook message over 32 KB', async () => {
    await post('/v1/webhooks/segment', aTrack({ properties: { blob: 'x'.repeat(33 * 1024) } })).expect(413);
  });

  it('lists a message over 32 KB inside a batch as rejected and stores the rest', async () => {
    const ok = aTrack({ userId: 'batch-size-ok' });
    const res = await post('/v1/batch', { batch: [aTrack({ userId: 'batch-size-big', properties: { blob: 'x'.repeat(33 * 1024) } }), ok] }).expect(200);
    expect(res.body).toMatchObject({ accepted: 1, duplicates: 0, rejected: [{ index: 0, code: 'invalid' }] });
  });
});

describe('batch and import', () => {
  it.each(['/v1/batch', '/v1/import'])('%s stores supported messages, lists the rest, and merges top-level context and integrations', async (path) => {
    const tag = path.slice(4);
    const body = {
      batch: [
        anIdentify({ userId: `${tag}-1`, context: { locale: 'fr-FR' }, integrations: undefined }),
        { type: 'page', userId: `${tag}-1`, name: 'Home' },
        aTrack({ userId: `${tag}-1`, context: undefined, integrations: { Mixpanel: false } }),
        aTrack({ userId: `${tag}-1`, event: undefined }),
        aGroup({ userId: `${tag}-1`, groupId: `${tag}-acct` }),
        { type: 'alias', userId: `${tag}-1`, previousId: 'old' },
        'not an object',
      ],
      context: { library: { name: 'analytics-node', version: '3.1.0' }, locale: 'en-GB' },
      integrations: { All: false, Slack: true },
      sentAt: '2026-11-20T10:00:01.000Z',
    };
    const res = await post(path, body).expect(200);
    expect(res.body).toEqual({
      success: true,
      accepted: 3,
      duplicates: 0,
      rejected: [
        { index: 1, code: 'not_supported', message: expect.stringContaining('page') },
        { index: 3, code: 'invalid', message: expect.stringContaining('event') },
        { index: 5, code: 'not_supported', message: expect.stringContaining('alias') },
        { index: 6, code: 'invalid', message: expect.any(String) },
      ],
    });
    const rows = await gw.database.db('events').where({ workspace_id: ws.id, user_id: `${tag}-1` }).orderBy('id');
    expect(rows.map((r) => r.type)).toEqual(['identify', 'track', 'group']);
    // The message's own context keys win over the batch's; the batch's fill in the rest.
    expect(rows[0].context).toEqual({ library: { name: 'analytics-node', version: '3.1.0' }, locale: 'fr-FR' });
    expect(rows[0].integrations).toEqual({ All: false, Slack: true });
    expect(rows[1].context).toEqual(body.context);
    expect(rows[1].integrations).toEqual({ All: false, Slack: true, Mixpanel: false });
    expect(rows[1].sent_at.toISOString()).toBe('2026-11-20T10:00:01.000Z');
  });

  it('counts duplicates: a replayed batch stores nothing twice', async () => {
    const batch = [anIdentify({ userId: 'dup-1' }), aTrack({ userId: 'dup-1' }), aTrack({ userId: 'dup-1' }), aGroup({ userId: 'dup-1', groupId: 'dup-acct' })];
    await post('/v1/batch', { batch }).expect(200, { success: true, accepted: 4, duplicates: 0, rejected: [] });
    const snapshot = async () => ({
      events: await gw.database.db('events').where({ workspace_id: ws.id, user_id: 'dup-1' }).count().first(),
      counts: await gw.database.db('event_counts').where({ workspace_id: ws.id, user_id: 'dup-1' }).select('event', 'day', 'count'),
      user: await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'dup-1' }).select('traits', 'first_seen_at', 'last_seen_at').first(),
      members: await gw.database.db('account_members').where({ workspace_id: ws.id, user_id: 'dup-1' }).select('group_id', 'joined_at'),
    });
    const first = await snapshot();
    expect(first.events).toEqual({ count: 4 });
    expect(first.counts).toEqual([{ event: 'Clicked Upgrade', day: expect.anything(), count: 2 }]);
    await post('/v1/batch', { batch }).expect(200, { success: true, accepted: 0, duplicates: 4, rejected: [] });
    expect(await snapshot()).toEqual(first);
  });

  it('applies the profile changes of the new messages in a batch that mixes replays and new ones', async () => {
    const old = aTrack({ userId: 'mixed-1', event: 'Opened' });
    await post('/v1/batch', { batch: [old] }).expect(200);
    const res = await post('/v1/batch', { batch: [
      old,
      aTrack({ userId: 'mixed-1', event: 'Opened' }),
      anIdentify({ userId: 'mixed-1', traits: { plan: 'team' } }),
      aGroup({ userId: 'mixed-1', groupId: 'mixed-acct', traits: { seats: 3 } }),
    ] }).expect(200);
    expect(res.body).toMatchObject({ accepted: 3, duplicates: 1 });
    const counts = await gw.database.db('event_counts').where({ workspace_id: ws.id, user_id: 'mixed-1' });
    expect(counts.map((c) => [c.event, c.count])).toEqual([['Opened', 2]]);
    expect((await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'mixed-1' }).first()).traits).toEqual({ plan: 'team' });
    expect((await gw.database.db('accounts').where({ workspace_id: ws.id, group_id: 'mixed-acct' }).first()).traits).toEqual({ seats: 3 });
    expect(await gw.database.db('account_members').where({ workspace_id: ws.id, user_id: 'mixed-1' })).toHaveLength(1);
  });

  it('lands every one of many concurrent requests (group commit) with exact counters', async () => {
    const sends = Array.from({ length: 40 }, (_, i) => post(i % 4 ? '/v1/segment' : '/v1/batch', i % 4
      ? aTrack({ userId: 'concurrent-1', event: 'Tick', timestamp: '2026-11-20T10:00:00Z' })
      : { batch: [aTrack({ userId: 'concurrent-1', event: 'Tick', timestamp: '2026-11-20T10:00:00Z' }), anIdentify({ userId: 'concurrent-1', traits: { [`k${i}`]: i } })] }));
    const answers = await Promise.all(sends);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const counts = await gw.database.db('event_counts').where({ workspace_id: ws.id, user_id: 'concurrent-1' });
    expect(counts.map((c) => c.count)).toEqual([40]);
    expect(Object.keys((await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'concurrent-1' }).first()).traits)).toHaveLength(10);
  });

  it('counts a messageId repeated inside one batch as a duplicate', async () => {
    const m = aTrack({ userId: 'dup-in-batch' });
    const res = await post('/v1/batch', { batch: [m, m] }).expect(200);
    expect(res.body).toMatchObject({ accepted: 1, duplicates: 1 });
    const counts = await gw.database.db('event_counts').where({ workspace_id: ws.id, user_id: 'dup-in-batch' });
    expect(counts.map((c) => c.count)).toEqual([1]);
  });

  it('accepts an empty batch', async () => {
    await post('/v1/batch', { batch: [] }).expect(200, { success: true, accepted: 0, duplicates: 0, rejected: [] });
  });

  it('accepts gzip bodies (analytics libraries may compress)', async () => {
    const body = zlib.gzipSync(JSON.stringify({ batch: [aTrack({ userId: 'gzip-1' })] }));
    const server = http.createServer(gw.app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/batch`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', Authorization: `Bearer ${ws.ingestKey}` },
        body,
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ accepted: 1 });
    } finally {
      server.close();
    }
    expect(await gw.database.db('events').where({ workspace_id: ws.id, user_id: 'gzip-1' })).toHaveLength(1);
  });
});

describe('Segment Spec messages', () => {
  it('keeps nested context, integrations, trait names with spaces, numbers, booleans and unknown fields', async () => {
    const m = anIdentify({
      userId: 'spec-1',
      traits: { 'First Name': 'Grace', 'Logins Count': 3, 'Is Admin': false, score: 9.5, address: { city: 'Arlington', zip: '22201' }, tags: ['a', 'b'], nothing: null },
      context: { app: { name: 'ios', build: 312 }, device: { id: 'd-1', manufacturer: 'Apple' }, traits: { email: 'g@example.com' }, active: true },
      integrations: { All: true, 'Google Analytics': { clientId: '123.456' } },
      _metadata: { bundled: ['Segment.io'], unbundled: [] },
      version: 2,
      channel: 'server',
    });
    await post('/v1/segment', m).expect(200);
    const row = await gw.database.db('events').where({ workspace_id: ws.id, message_id: m.messageId }).first();
    expect(row.traits).toEqual(m.traits);
    expect(row.context).toEqual(m.context);
    expect(row.integrations).toEqual(m.integrations);
    expect(row.extra).toEqual({ _metadata: m._metadata, version: 2, channel: 'server' });
    const user = await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'spec-1' }).first();
    expect(user.traits).toEqual(m.traits);
  });

  it('accepts numeric ids and stores them as text', async () => {
    await post('/v1/track', { userId: 12345, event: 'Numeric', messageId: 'numeric-id' }).expect(200);
    const row = await gw.database.db('events').where({ workspace_id: ws.id, message_id: 'numeric-id' }).first();
    expect(row.user_id).toBe('12345');
  });

  it('resolves the event time from originalTimestamp corrected by the client clock skew when timestamp is absent', async () => {
    gw.clock.set('2026-11-20T12:00:10.000Z');
    // The device clock runs 10 s behind: it sent at 12:00:00 by its clock, we received at 12:00:10.
    await post('/v1/track', { userId: 'skew-1', event: 'Skewed', messageId: 'skew-1', originalTimestamp: '2026-11-20T11:59:00.000Z', sentAt: '2026-11-20T12:00:00.000Z' }).expect(200);
    const row = await gw.database.db('events').where({ workspace_id: ws.id, message_id: 'skew-1' }).first();
    expect(row.timestamp.toISOString()).toBe('2026-11-20T11:59:10.000Z');
    expect(row.original_timestamp.toISOString()).toBe('2026-11-20T11:59:00.000Z');
    expect(row.received_at.toISOString()).toBe('2026-11-20T12:00:10.000Z');
  });

  it('keeps originalTimestamp when the skew correction would leave the years 1–9999', async () => {
    gw.clock.set('2026-11-20T12:00:10.000Z');
    await post('/v1/track', { userId: 'skew-2', event: 'Skewed', messageId: 'skew-2', originalTimestamp: '9999-06-01T00:00:00.000Z', sentAt: '0002-01-01T00:00:00.000Z' }).expect(200);
    const row = await gw.database.db('events').where({ workspace_id: ws.id, message_id: 'skew-2' }).first();
    expect(row.timestamp.toISOString()).toBe('9999-06-01T00:00:00.000Z');
  });

  it('uses the receive time when the message carries no time at all', async () => {
    gw.clock.set('2026-11-21T08:00:00.000Z');
    await post('/v1/track', { userId: 'no-time', event: 'Timeless', messageId: 'no-time' }).expect(200);
    const row = await gw.database.db('events').where({ workspace_id: ws.id, message_id: 'no-time' }).first();
    expect(row.timestamp.toISOString()).toBe('2026-11-21T08:00:00.000Z');
  });
});
