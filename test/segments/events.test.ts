import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { matching } from './factories.js';

const gw = useGateway();
let ws: { id: string; ingestKey: string };
const NOW = new Date('2026-06-15T12:00:00Z');

const track = (userId: string, event: string, timestamp: string, properties: Record<string, unknown> = {}) =>
  ({ type: 'track', userId, event, timestamp, properties });

// Scenario: events in (through the Segment batch endpoint), then expected membership per definition.
beforeAll(async () => {
  gw.clock.set(NOW);
  ws = await gw.createWorkspace();
  const batch = [
    { type: 'identify', userId: 'never', traits: {}, timestamp: '2026-06-01T00:00:00Z' },
    // "edge-in": exactly on the first day of a 7-day window (today and the 6 days before: from 2026-06-09 00:00 UTC)
    track('edge-in', 'Upgrade', '2026-06-09T00:00:00Z', { plan: 'Pro' }),
    // "edge-out": one second before the window
    track('edge-out', 'Upgrade', '2026-06-08T23:59:59Z', { plan: 'pro' }),
    track('thrice', 'Upgrade', '2026-06-15T11:00:00Z', { plan: 'free', amount: 5 }),
    track('thrice', 'Upgrade', '2026-06-14T11:00:00Z', { plan: 'pro', amount: '50' }),
    track('thrice', 'Upgrade', '2026-05-01T11:00:00Z', { plan: 'pro', amount: 500 }),
    track('other', 'Signed Up', '2026-06-15T00:00:00Z'),
  ];
  const res = await gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({ batch }).expect(200);
  expect(res.body.accepted).toBe(batch.length);
});

const ALL = ['edge-in', 'edge-out', 'never', 'other', 'thrice'];

describe('event conditions', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['performed, all time', { event: 'Upgrade' }, ['edge-in', 'edge-out', 'thrice']],
    ['window boundary: first day in, the second before out', { event: 'Upgrade', withinDays: 7 }, ['edge-in', 'thrice']],
    ['withinDays 1 is today (UTC)', { event: 'Upgrade', withinDays: 1 }, ['thrice']],
    ['performed: false includes users who never did it', { event: 'Upgrade', performed: false, withinDays: 7 }, ['edge-out', 'never', 'other']],
    ['count gte 3 all time', { event: 'Upgrade', count: { op: 'gte', value: 3 } }, ['thrice']],
    ['count gte 3 in 30 days', { event: 'Upgrade', count: { op: 'gte', value: 3 }, withinDays: 30 }, []],
    ['count eq 2 in 30 days', { event: 'Upgrade', count: { op: 'eq', value: 2 }, withinDays: 30 }, ['thrice']],
    ['count lte 1 includes zero', { event: 'Upgrade', count: { op: 'lte', value: 1 }, withinDays: 30 }, ALL.filter((u) => u !== 'thrice')],
    ['count lt 1 = never', { event: 'Upgrade', count: { op: 'lt', value: 1 } }, ['never', 'other']],
    ['count neq 1', { event: 'Upgrade', count: { op: 'neq', value: 1 } }, ['never', 'other', 'thrice']],
    ['where: property eq, case-insensitive', { event: 'Upgrade', where: [{ property: 'plan', op: 'eq', value: 'pro' }] }, ['edge-in', 'edge-out', 'thrice']],
    ['where + window', { event: 'Upgrade', withinDays: 7, where: [{ property: 'plan', op: 'eq', value: 'pro' }] }, ['edge-in', 'thrice']],
    ['where numeric, numbers and numeric strings', { event: 'Upgrade', where: [{ property: 'amount', op: 'gte', value: 50 }], count: { op: 'gte', value: 2 } }, ['thrice']],
    ['where with zero-inclusive count', { event: 'Upgrade', where: [{ property: 'plan', op: 'eq', value: 'free' }], performed: false }, ALL.filter((u) => u !== 'thrice')],
    ['where on an absent property with a negative operator', { event: 'Signed Up', where: [{ property: 'plan', op: 'neq', value: 'x' }] }, ['other']],
  ];
  it.each(cases)('%s', async (_name, definition, expected) => {
    expect(await matching(gw, ws.id, definition)).toEqual([...expected].sort());
  });

  it('windows move with the clock', async () => {
    gw.clock.set('2026-06-16T00:00:00Z');
    expect(await matching(gw, ws.id, { event: 'Upgrade', withinDays: 7 })).toEqual(['thrice']);
    gw.clock.set(NOW);
  });
});
