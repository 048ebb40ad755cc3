import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { normalizeMessage, type IngestMessage } from '../../src/ingest/normalize.js';
import { storeMessages } from '../../src/ingest/writer.js';
import { aTrack, anIdentify } from './messages.js';

/**
 * The commit's shape: round trips are most of a small commit's cost, so the common batch is one statement in
 * autocommit, and only a replay or a visitor with data of its own to move takes the transaction.
 */
const gw = useGateway();
let ws: { id: string };

const messages = (...raw: Record<string, unknown>[]): IngestMessage[] => raw.map((r) => {
  const n = normalizeMessage(r, ws.id, new Date());
  if (!n.ok) throw new Error(n.rejection.message);
  return n.message;
});

/** Stores the messages and returns the SQL statements sent, BEGIN and COMMIT included. */
async function statementsOf(batch: IngestMessage[]): Promise<string[]> {
  const sent: string[] = [];
  const listen = (q: { sql: string }) => sent.push(q.sql.trim().split(/\s+/).slice(0, 3).join(' '));
  gw.database.db.on('query', listen);
  try {
    await storeMessages(gw.database.db, batch);
  } finally {
    gw.database.db.removeListener('query', listen);
  }
  return sent;
}

beforeAll(async () => {
  ws = await gw.createWorkspace('Commit');
});

describe('the ingest commit', () => {
  it('stores new users, their events, first links and dirty marks in one statement', async () => {
    const sent = await statementsOf(messages(
      anIdentify({ userId: 'c-1', anonymousId: 'c-anon-1', traits: { plan: 'pro' } }),
      aTrack({ userId: 'c-1', anonymousId: 'c-anon-1', event: 'Report Exported' }),
      aTrack({ userId: 'c-2', event: 'Report Exported' }),
    ));
    expect(sent).toHaveLength(1);
    const db = gw.database.db;
    expect(await db('events').where({ workspace_id: ws.id }).count('* as n').first()).toEqual({ n: 3 });
    expect((await db('users').where({ workspace_id: ws.id, user_id: 'c-1' }).first()).traits).toEqual({ plan: 'pro' });
    expect((await db('anonymous_profiles').where({ workspace_id: ws.id, anonymous_id: 'c-anon-1' }).first()).user_id).toBe('c-1');
    const dirty = await db('dirty_users').where({ workspace_id: ws.id }).orderBy('user_id');
    expect(dirty.map((d) => d.user_id)).toEqual(['c-1', 'c-2']);
    // New users are checked against the segments an empty user may match ('new') and everything their messages set.
    const seen = ['attribute:firstSeenAt', 'attribute:lastSeenAt', 'attribute:lastSeenAt:window'];
    expect([...dirty[0].inputs].sort()).toEqual([...seen, 'event:Report Exported', 'new', 'trait:plan']);
    expect([...dirty[1].inputs].sort()).toEqual([...seen, 'event:Report Exported', 'new']);
  });

  it('takes a transaction when some messages were already stored, and applies only the new ones', async () => {
    const replayed = aTrack({ userId: 'c-3', event: 'Invite Sent' });
    await storeMessages(gw.database.db, messages(replayed));
    const sent = await statementsOf(messages(replayed, aTrack({ userId: 'c-3', event: 'Invite Sent' })));
    // The one-statement attempt aborts itself (writing nothing), then the transaction.
    expect(sent.slice(1, 2)).toEqual([expect.stringMatching(/^BEGIN/i)]);
    expect(sent.at(-1)).toMatch(/^COMMIT/i);
    const counts = await gw.database.db('event_counts').where({ workspace_id: ws.id, user_id: 'c-3' });
    expect(counts.map((c) => c.count)).toEqual([2]);
  });

  it('takes a transaction when a visitor with events of its own meets its user, and moves them', async () => {
    await storeMessages(gw.database.db, messages(aTrack({ userId: undefined, anonymousId: 'c-anon-4', event: 'Pricing Viewed' })));
    const sent = await statementsOf(messages(anIdentify({ userId: 'c-4', anonymousId: 'c-anon-4', traits: { plan: 'free' } })));
    expect(sent.slice(1, 2)).toEqual([expect.stringMatching(/^BEGIN/i)]);
    const moved = await gw.database.db('events').where({ workspace_id: ws.id, anonymous_id: 'c-anon-4', type: 'track' }).first();
    expect(moved.user_id).toBe('c-4');
  });
});

describe('change marks of existing users', () => {
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
  const marks = async () => Object.fromEntries((await gw.database.db('dirty_users').where({ workspace_id: ws.id }).whereLike('user_id', 's-%'))
    .map((d) => [d.user_id, [...d.inputs].sort()]));

  // Both commit paths: the one statement, and the transaction a replayed message forces.
  for (const path of ['one statement', 'transaction']) {
    it(`name the traits that changed and the automatic fields that moved (${path})`, async () => {
      const db = gw.database.db;
      await db('users').where({ workspace_id: ws.id }).whereLike('user_id', 's-%').delete();
      const replay = aTrack({ userId: 's-recent', event: 'Earlier', timestamp: hoursAgo(3) });
      await storeMessages(db, messages(replay, aTrack({ userId: 's-away', event: 'Earlier', timestamp: hoursAgo(48) }),
        anIdentify({ userId: 's-recent', traits: { plan: 'pro', seats: 3 }, timestamp: hoursAgo(3) })));
      await db('dirty_users').where({ workspace_id: ws.id }).delete();

      await storeMessages(db, messages(
        ...(path === 'transaction' ? [replay] : []),
        aTrack({ userId: 's-recent', event: 'Viewed', timestamp: hoursAgo(0) }), // seen 3 hours ago: last seen moves, no window can flip
        anIdentify({ userId: 's-recent', traits: { plan: 'pro', seats: 4 }, timestamp: hoursAgo(0) }), // only seats changes
        aTrack({ userId: 's-away', event: 'Viewed', timestamp: hoursAgo(0) }), // back after two days: windows may flip
        aTrack({ userId: 's-away', event: 'Backfilled', timestamp: hoursAgo(72) }), // first seen moves back
      ));
      expect(await marks()).toEqual({
        's-recent': ['attribute:lastSeenAt', 'event:Viewed', 'trait:seats'],
        's-away': ['attribute:firstSeenAt', 'attribute:lastSeenAt', 'attribute:lastSeenAt:window', 'event:Backfilled', 'event:Viewed'],
      });
    });
  }
});
