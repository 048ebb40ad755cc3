import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { evaluateDirtyBatch, evaluateUntilIdle } from '../../src/segments/incremental.js';
import { claimDirty, markDirty, takeClaims } from '../../src/segments/dirty.js';
import { createSegment, memberIds } from './factories.js';

// The evaluator claims dirty users in a short statement of its own, then evaluates them in a second transaction.
const gw = useGateway();
let ws: { id: string; ingestKey: string };
let seg: string;
const NOW = new Date('2026-06-15T12:00:00Z');

const send = (...batch: Record<string, unknown>[]) =>
  gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({ batch: batch.map((m) => ({ timestamp: NOW.toISOString(), ...m })) }).expect(200);
const dirtyRows = async () => (await gw.database.db('dirty_users').where({ workspace_id: ws.id }).orderBy('user_id')).map((r) => ({ user: r.user_id, inputs: [...r.inputs].sort() }));
const claimRows = async () => (await gw.database.db('dirty_claims').where({ workspace_id: ws.id }).orderBy('user_id')).map((r) => r.user_id);

beforeAll(async () => {
  gw.clock.set(NOW);
  ws = await gw.createWorkspace();
  seg = await createSegment(gw, ws.id, { type: 'dynamic', definition: { trait: 'plan', op: 'eq', value: 'pro' } }, true);
});

describe('claiming dirty users', () => {
  it('ingest marking a user whose evaluation is in progress does not wait for it', async () => {
    await send({ type: 'identify', userId: 'a', traits: { plan: 'pro' } });
    const claimed = await claimDirty(gw.database.db, 10);
    expect(claimed.map((c) => c.user_id)).toEqual(['a']);
    const evaluation = await gw.database.db.transaction();
    try {
      expect((await takeClaims(evaluation, claimed)).map((c) => c.user_id)).toEqual(['a']); // locked until commit
      // Would block on the evaluation's row locks if the dirty row were deleted in the evaluation transaction.
      await gw.database.db.transaction(async (trx) => {
        await trx.raw(`set local lock_timeout = '2s'`);
        await markDirty(trx, [{ workspace_id: ws.id, user_id: 'a', inputs: ['trait:plan'] }]);
      });
      // ...and no other worker claims the user while the evaluation holds it.
      expect(await claimDirty(gw.database.db, 10)).toEqual([]);
    } finally {
      await evaluation.commit();
    }
    expect(await dirtyRows()).toEqual([{ user: 'a', inputs: ['trait:plan'] }]);
    expect(await claimRows()).toEqual([]);
    await evaluateUntilIdle(gw.database.db, () => gw.clock.now());
    expect(await memberIds(gw.database.db, ws.id, seg)).toEqual(['a']);
  });

  it('a failed evaluation puts its users back in the queue', async () => {
    await send({ type: 'identify', userId: 'b', traits: { plan: 'pro' } });
    const db = gw.database.db;
    await db.raw(`create function ag_test_fail() returns trigger language plpgsql as $$ begin raise exception 'boom'; end $$`);
    await db.raw(`create trigger ag_test_fail before insert on membership_log for each row execute function ag_test_fail()`);
    try {
      await expect(evaluateDirtyBatch(db, gw.clock.now())).rejects.toThrow(/boom/);
    } finally {
      await db.raw(`drop trigger ag_test_fail on membership_log; drop function ag_test_fail()`);
    }
    expect(await dirtyRows()).toEqual([{ user: 'b', inputs: ['attribute:firstSeenAt', 'attribute:lastSeenAt', 'attribute:lastSeenAt:window', 'new', 'trait:plan'] }]); // a new user: 'new' and every mark
    expect(await claimRows()).toEqual([]);
    await evaluateUntilIdle(db, () => gw.clock.now());
    expect(await memberIds(db, ws.id, seg)).toEqual(['a', 'b']);
  });

  it('claims left by a worker that died are put back after the timeout', async () => {
    const db = gw.database.db;
    await db('users').where({ workspace_id: ws.id, user_id: 'a' }).update({ traits: JSON.stringify({ plan: 'free' }) });
    await db('dirty_claims').insert({ workspace_id: ws.id, user_id: 'a', inputs: ['trait:plan'], claimed_at: new Date(Date.now() - 120_000) });
    expect(await claimDirty(db, 10, 300)).toEqual([]); // not stale yet
    const claimed = await claimDirty(db, 10, 60);
    expect(claimed).toEqual([{ workspace_id: ws.id, user_id: 'a', inputs: ['trait:plan'] }]);
    expect(await dirtyRows()).toEqual([]);
    await db('dirty_claims').where({ workspace_id: ws.id }).update({ claimed_at: new Date(Date.now() - 120_000) });
    expect(await evaluateUntilIdle(db, () => gw.clock.now())).toBe(0); // another worker's claim, not stale for it
    expect(await evaluateDirtyBatch(db, gw.clock.now(), 10, { recoverAfterSeconds: 60 })).toBe(1);
    expect(await memberIds(db, ws.id, seg)).toEqual(['b']);
    expect(await claimRows()).toEqual([]);
  });
});
