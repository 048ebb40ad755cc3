import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aSegment, allPages, daysAgo, identify, list, minutesAgo } from './directory-helpers.js';

const gw = useGateway();

describe('users directory: search', () => {
  let ws: { id: string; ingestKey: string };
  beforeAll(async () => {
    ws = await gw.createWorkspace('Search');
    await identify(gw, ws.ingestKey, [
      { userId: 'alice-01', traits: { email: 'Alice.Smith@Example.com', name: 'Alice Smith' }, at: minutesAgo(gw, 1) },
      { userId: 'bob-02', traits: { email: 'bob@corp.io', firstName: 'Robert', lastName: 'Lovelace' }, at: minutesAgo(gw, 2) },
      { userId: 'CHARLIE_03', traits: { name: 'Charlie van Dyke', plan: 'pro' }, at: minutesAgo(gw, 3) },
      { userId: 'dave%04', traits: { email: 'd_x@x.io', first_name: 'Dave' }, at: minutesAgo(gw, 4) },
      { userId: 'dax-05', traits: { email: 'dax@x.io' }, at: minutesAgo(gw, 5) },
    ]);
  });
  const search = async (q: string) => (await list(gw, ws.id, { q })).users.map((u) => u.userId);

  it('matches a prefix of the user id, case-insensitively', async () => {
    expect(await search('ALICE-0')).toEqual(['alice-01']);
    expect(await search('charlie_')).toEqual(['CHARLIE_03']);
  });

  it('matches a prefix of the email trait, case-insensitively', async () => {
    expect(await search('alice.smith@EXAMPLE')).toEqual(['alice-01']);
    expect(await search('bob@')).toEqual(['bob-02']);
  });

  it('matches the name, first name + last name, and the part after the first name', async () => {
    expect(await search('alice sm')).toEqual(['alice-01']);
    expect(await search('Robert Love')).toEqual(['bob-02']);
    expect(await search('love')).toEqual(['bob-02']);
    expect(await search('van d')).toEqual(['CHARLIE_03']);
    expect(await search('  charlie   VAN ')).toEqual(['CHARLIE_03']);
    expect(await search('dave')).toEqual(['dave%04']);
  });

  it('lists a user once even when several fields match, newest activity first', async () => {
    expect(await search('a')).toEqual(['alice-01']);
    expect(await search('d')).toEqual(['dave%04', 'dax-05']);
  });

  it('treats LIKE wildcards in the search as plain characters', async () => {
    expect(await search('d_')).toEqual(['dave%04']);
    expect(await search('dave%')).toEqual(['dave%04']);
    expect(await search('%')).toEqual([]);
    expect(await search('smith')).toEqual(['alice-01']);
    expect(await search('nobody')).toEqual([]);
  });

  it('answers each row with email, name, traits, times and segments', async () => {
    const body = await list(gw, ws.id, { q: 'bob' });
    expect(body.total).toBe(1);
    expect(body.totalIsEstimate).toBe(false);
    expect(body.nextCursor).toBeNull();
    expect(body.users[0]).toEqual({
      userId: 'bob-02',
      email: 'bob@corp.io',
      name: 'Robert Lovelace',
      traits: { email: 'bob@corp.io', firstName: 'Robert', lastName: 'Lovelace' },
      firstSeenAt: minutesAgo(gw, 2).toISOString(),
      lastSeenAt: minutesAgo(gw, 2).toISOString(),
      lastSurveyResponseAt: null,
      segments: [],
    });
  });
});

describe('users directory: filters and sorts', () => {
  let ws: { id: string; ingestKey: string };
  let pro: string;
  beforeAll(async () => {
    ws = await gw.createWorkspace('Filters');
    // u1 seen today, first seen 100 days ago; u2 seen 3 days ago; u3 seen 20 days ago; u4 seen 40 days ago.
    await identify(gw, ws.ingestKey, [
      { userId: 'u1', traits: { plan: 'pro' }, at: daysAgo(gw, 100) },
      { userId: 'u1', at: minutesAgo(gw, 10) },
      { userId: 'u2', at: daysAgo(gw, 3) },
      { userId: 'u3', at: daysAgo(gw, 30) },
      { userId: 'u3', at: daysAgo(gw, 20) },
      { userId: 'u4', at: daysAgo(gw, 40) },
    ]);
    // Survey responses land through another area; the users column they maintain is what the directory reads.
    const db = gw.database.db;
    await db('users').where({ workspace_id: ws.id, user_id: 'u3' }).update({ last_survey_response_at: daysAgo(gw, 2) });
    await db('users').where({ workspace_id: ws.id, user_id: 'u4' }).update({ last_survey_response_at: daysAgo(gw, 35) });
    pro = await aSegment(gw, ws.id, { name: 'Pro', members: ['u1', 'u3'] });
  });
  const ids = async (query: Record<string, string | number>) => (await list(gw, ws.id, query)).users.map((u) => u.userId);

  it('sorts by last seen, newest first, by default', async () => {
    expect(await ids({})).toEqual(['u1', 'u2', 'u3', 'u4']);
    expect(await ids({ order: 'asc' })).toEqual(['u4', 'u3', 'u2', 'u1']);
  });

  it('sorts by first seen', async () => {
    expect(await ids({ sort: 'firstSeenAt' })).toEqual(['u2', 'u3', 'u4', 'u1']);
    expect(await ids({ sort: 'firstSeenAt', order: 'asc' })).toEqual(['u1', 'u4', 'u3', 'u2']);
  });

  it('sorts by last survey response, users who never responded last in both orders', async () => {
    expect(await ids({ sort: 'lastSurveyResponseAt' })).toEqual(['u3', 'u4', 'u2', 'u1']);
    expect(await ids({ sort: 'lastSurveyResponseAt', order: 'asc' })).toEqual(['u4', 'u3', 'u1', 'u2']);
  });

  it('filters on seen within and responded within, measured from the clock', async () => {
    expect(await ids({ seenWithinDays: 7 })).toEqual(['u1', 'u2']);
    expect(await ids({ seenWithinDays: 30 })).toEqual(['u1', 'u2', 'u3']);
    expect(await ids({ respondedWithinDays: 7 })).toEqual(['u3']);
    expect(await ids({ respondedWithinDays: 60, sort: 'lastSurveyResponseAt' })).toEqual(['u3', 'u4']);
    gw.clock.advance(6 * 86_400_000);
    try {
      expect(await ids({ seenWithinDays: 7 })).toEqual(['u1']);
    } finally {
      gw.clock.advance(-6 * 86_400_000);
    }
  });

  it('filters on current segment membership and shows each user\'s segments', async () => {
    const body = await list(gw, ws.id, { segmentId: pro });
    expect(body.users.map((u) => [u.userId, u.segments])).toEqual([['u1', [pro]], ['u3', [pro]]]);
    expect(body.total).toBe(2);
    expect(await ids({ segmentId: pro, seenWithinDays: 7 })).toEqual(['u1']);
  });

  it('treats an everyone segment as all users', async () => {
    const everyone = await aSegment(gw, ws.id, { name: 'Everyone', type: 'everyone' });
    const body = await list(gw, ws.id, { segmentId: everyone });
    expect(body.users.map((u) => u.userId)).toEqual(['u1', 'u2', 'u3', 'u4']);
    expect(body.users[0].segments).toEqual([pro, everyone]);
    expect(body.users[1].segments).toEqual([everyone]);
    await gw.database.db('segments').where({ id: everyone }).del();
  });

  it('answers 404 for an unknown segment and 400 for bad parameters', async () => {
    await gw.api.get(`/api/workspaces/${ws.id}/users`).query({ segmentId: '00000000-0000-4000-8000-000000000000' }).expect(404);
    await gw.api.get(`/api/workspaces/${ws.id}/users`).query({ segmentId: 'nope' }).expect(404);
    const bad = await gw.api.get(`/api/workspaces/${ws.id}/users`).query({ sort: 'email' }).expect(400);
    expect(bad.body.error.code).toBe('invalid');
    await gw.api.get(`/api/workspaces/${ws.id}/users`).query({ limit: 0 }).expect(400);
    await gw.api.get(`/api/workspaces/${ws.id}/users`).query({ seenWithinDays: 'week' }).expect(400);
    const cursor = await gw.api.get(`/api/workspaces/${ws.id}/users`).query({ cursor: 'garbage' }).expect(400);
    expect(cursor.body.error.code).toBe('invalid_cursor');
  });

  it('rejects a cursor made for another sort', async () => {
    const { nextCursor } = await list(gw, ws.id, { limit: 1 });
    await gw.api.get(`/api/workspaces/${ws.id}/users`).query({ cursor: nextCursor!, sort: 'firstSeenAt' }).expect(400);
  });
});

describe('users directory: cursor paging', () => {
  it('pages through every user once, in order, while new users arrive between pages', async () => {
    const ws = await gw.createWorkspace('Paging');
    const base = minutesAgo(gw, 1000);
    // 23 users, two pairs sharing a last-seen instant (ties are broken by user id).
    const users = Array.from({ length: 23 }, (_, i) => ({
      userId: `p${String(i).padStart(2, '0')}`,
      at: new Date(base.getTime() + (i === 5 || i === 12 ? i - 1 : i) * 60_000),
    }));
    await identify(gw, ws.ingestKey, users);
    const expected = (await list(gw, ws.id, { limit: 100 })).users.map((u) => u.userId);
    expect(expected).toHaveLength(23);

    let n = 0;
    const seen = await allPages(gw, ws.id, { limit: 5 }, async () => {
      // Newcomers: newer than everyone, older than everyone, and in between the rows still to come.
      n++;
      await identify(gw, ws.ingestKey, [
        { userId: `new-top-${n}`, at: minutesAgo(gw, 0) },
        { userId: `new-old-${n}`, at: new Date(base.getTime() - 60_000 * n) },
        { userId: `new-mid-${n}`, at: new Date(base.getTime() + 2.5 * 60_000) },
      ]);
    });
    expect(seen).toEqual(expected);

    // A fresh listing shows the newcomers.
    expect((await list(gw, ws.id, { limit: 100 })).users).toHaveLength(23 + 3 * n);
  });

  it('pages in ascending order and across users without a survey response', async () => {
    const ws = await gw.createWorkspace('Paging nulls');
    const base = minutesAgo(gw, 500);
    await identify(gw, ws.ingestKey, Array.from({ length: 12 }, (_, i) => ({ userId: `r${String(i).padStart(2, '0')}`, at: new Date(base.getTime() + i * 60_000) })));
    const db = gw.database.db;
    for (const [i, m] of [[1, 30], [4, 20], [7, 20], [9, 10]] as const) {
      await db('users').where({ workspace_id: ws.id, user_id: `r0${i}` }).update({ last_survey_response_at: minutesAgo(gw, m) });
    }
    const desc = await allPages(gw, ws.id, { sort: 'lastSurveyResponseAt', limit: 3 });
    expect(desc).toEqual(['r09', 'r07', 'r04', 'r01', 'r11', 'r10', 'r08', 'r06', 'r05', 'r03', 'r02', 'r00']);
    const asc = await allPages(gw, ws.id, { sort: 'lastSurveyResponseAt', order: 'asc', limit: 3 });
    expect(asc).toEqual(['r01', 'r04', 'r07', 'r09', 'r00', 'r02', 'r03', 'r05', 'r06', 'r08', 'r10', 'r11']);
    const byFirstSeen = await allPages(gw, ws.id, { sort: 'firstSeenAt', order: 'asc', limit: 5 });
    expect(byFirstSeen).toEqual(Array.from({ length: 12 }, (_, i) => `r${String(i).padStart(2, '0')}`));
  });
});

describe('users directory: totals and tenancy', () => {
  it('counts exactly when small and estimates when large, per workspace', async () => {
    const small = await gw.createWorkspace('Small');
    const large = await gw.createWorkspace('Large');
    await identify(gw, small.ingestKey, [
      { userId: 'shared-id', traits: { email: 'same@example.com' }, at: minutesAgo(gw, 5) },
      { userId: 'only-small', at: minutesAgo(gw, 6) },
    ]);
    const db = gw.database.db;
    await db.raw(
      `insert into users (workspace_id, user_id, traits, first_seen_at, last_seen_at)
       select ?, 'bulk-' || g, jsonb_build_object('email', 'bulk' || g || '@example.com'), now() - interval '1 day', now() - g * interval '1 second'
         from generate_series(1, 12000) g`,
      [large.id],
    );
    await identify(gw, large.ingestKey, [{ userId: 'shared-id', traits: { email: 'same@example.com' }, at: minutesAgo(gw, 1) }]);
    await db.raw('analyze users');

    const big = await list(gw, large.id, { limit: 10 });
    expect(big.totalIsEstimate).toBe(true);
    expect(big.total).toBeGreaterThan(10_000);
    expect(big.users).toHaveLength(10);
    const searched = await list(gw, large.id, { q: 'bulk11' });
    expect(searched).toMatchObject({ total: 1111, totalIsEstimate: false });

    const few = await list(gw, small.id);
    expect(few).toMatchObject({ total: 2, totalIsEstimate: false });
    expect(few.users.map((u) => u.userId)).toEqual(['shared-id', 'only-small']);
  });

  it("never shows another workspace's users, segments or user pages", async () => {
    const a = await gw.createWorkspace('Tenant A');
    const b = await gw.createWorkspace('Tenant B');
    await identify(gw, a.ingestKey, [{ userId: 'same', traits: { email: 'same@a.io' }, at: minutesAgo(gw, 3) }]);
    await identify(gw, b.ingestKey, [
      { userId: 'same', traits: { email: 'same@b.io' }, at: minutesAgo(gw, 2) },
      { userId: 'b-only', traits: { email: 'b-only@b.io', name: 'Bee Only' }, at: minutesAgo(gw, 1) },
    ]);
    const bSegment = await aSegment(gw, b.id, { members: ['same', 'b-only'] });

    const all = await list(gw, a.id, { limit: 200 });
    expect(all.users.map((u) => [u.userId, u.email])).toEqual([['same', 'same@a.io']]);
    expect(all.total).toBe(1);
    expect((await list(gw, a.id, { q: 'b' })).users).toEqual([]);
    expect((await list(gw, a.id, { q: 'same@b' })).users).toEqual([]);
    await gw.api.get(`/api/workspaces/${a.id}/users`).query({ segmentId: bSegment }).expect(404);
    await gw.api.get(`/api/workspaces/${a.id}/users/b-only`).expect(404);
    const same = await gw.api.get(`/api/workspaces/${a.id}/users/same`).expect(200);
    expect(same.body.traits).toEqual({ email: 'same@a.io' });
    expect(same.body.segments).toEqual([]);
    // A cursor from B's listing does not open B's rows through A's path.
    const bPage = await list(gw, b.id, { limit: 1 });
    const viaA = await list(gw, a.id, { cursor: bPage.nextCursor!, limit: 200 });
    expect(viaA.users.every((u) => u.email?.endsWith('@a.io'))).toBe(true);
  });
});
