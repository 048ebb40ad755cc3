import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { evaluateUntilIdle } from '../../src/segments/incremental.js';
import { createSegment, memberIds } from './factories.js';

/**
 * DESIGN principle 2, proven on random data: random definitions over random users and events, ingested in random
 * order through /v1/batch with incremental evaluation running in between; at the end a fresh full evaluation of
 * every segment must find nothing to change, and each member set equals the compiler's answer (preview).
 */
const gw = useGateway();
const NOW = new Date('2026-06-15T12:00:00Z');
const DAY = 86_400_000;

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const shuffle = <T>(xs: T[]) => { for (let i = xs.length - 1; i > 0; i--) { const j = int(i + 1); [xs[i], xs[j]] = [xs[j], xs[i]]; } return xs; };
  return { next, int, pick, shuffle };
}
type R = ReturnType<typeof prng>;

const EVENTS = ['Upgrade', 'Login', 'Invite'];
const PLANS = ['pro', 'Pro', 'free', 'team'];

function randomTraitValue(r: R, name: string): unknown {
  switch (name) {
    case 'plan': return r.pick([...PLANS, null]);
    case 'n': return r.pick([1, 5, 10, '10', '7.5', 'many', null, true]);
    case 'signup': return r.pick(['2026-06-01', '2026-05-01T10:00:00Z', '2026-06-14T23:00:00+02:00', 'soon']);
    default: return r.pick(['a@x.io', 'B@Y.com', 'c@x.io']);
  }
}

function randomLeaf(r: R, earlier: string[]): Record<string, unknown> {
  const kind = r.int(earlier.length ? 6 : 5);
  switch (kind) {
    case 0: {
      const trait = r.pick(['plan', 'n', 'email']);
      const op = r.pick(['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'exists', 'not_exists', 'gt', 'lte']);
      if (op === 'exists' || op === 'not_exists') return { trait, op };
      if (op === 'in' || op === 'not_in') return { trait, op, value: [r.pick(PLANS), r.pick([10, 'x', 5])] };
      if (op === 'gt' || op === 'lte') return { trait: 'n', op, value: r.pick([5, 7.5, '9']) };
      if (op === 'contains' || op === 'not_contains' || op === 'starts_with') return { trait, op, value: r.pick(['x.io', 'pr', 'B@']) };
      return { trait, op, value: trait === 'n' ? r.pick([10, '5', true]) : r.pick(PLANS) };
    }
    case 1: {
      const c: Record<string, unknown> = { event: r.pick(EVENTS) };
      const mode = r.int(3);
      if (mode === 0) c.count = { op: r.pick(['gte', 'lte', 'eq', 'gt', 'lt', 'neq']), value: r.int(4) };
      if (mode === 1) c.performed = r.next() < 0.5;
      if (r.next() < 0.6) c.withinDays = r.pick([1, 3, 7, 30]);
      if (r.next() < 0.3) c.where = [r.pick([{ property: 'plan', op: 'eq', value: 'pro' }, { property: 'amount', op: 'gte', value: 20 }, { property: 'amount', op: 'not_exists' }])];
      return c;
    }
    case 2: return r.pick([{ accountTrait: 'employees', op: 'gte', value: 50 }, { accountTrait: 'employees', op: 'lt', value: '50' }, { accountTrait: 'tier', op: 'not_exists' }]);
    case 3: return r.pick([{ attribute: 'firstSeenAt', op: 'within_last', days: 10 }, { attribute: 'lastSeenAt', op: 'more_than_ago', days: 3 }, { attribute: 'firstSeenAt', op: 'before', value: '2026-06-01' }]);
    case 4: return { trait: 'signup', op: r.pick(['before', 'after']), value: r.pick(['2026-06-01', '2026-06-14T20:00:00Z']) };
    default: return { segment: r.pick(earlier), member: r.next() < 0.7 };
  }
}

function randomDefinition(r: R, earlier: string[], depth = 0): Record<string, unknown> {
  const roll = r.next();
  if (depth < 2 && roll < 0.35) return { [r.pick(['all', 'any'])]: Array.from({ length: 2 + r.int(2) }, () => randomDefinition(r, earlier, depth + 1)) };
  if (depth < 2 && roll < 0.45) return { not: randomDefinition(r, earlier, depth + 1) };
  return randomLeaf(r, earlier);
}

function randomMessages(r: R, users: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const at = () => new Date(NOW.getTime() - r.int(40) * DAY - r.int(DAY)).toISOString();
  for (let u = 0; u < users; u++) {
    const userId = `u${u}`;
    for (let i = r.int(3); i >= 0; i--) {
      const traits: Record<string, unknown> = {};
      for (const t of ['plan', 'n', 'signup', 'email']) if (r.next() < 0.5) traits[t] = randomTraitValue(r, t);
      out.push({ type: 'identify', userId, traits, timestamp: at() });
    }
    for (let i = r.int(6); i > 0; i--) {
      out.push({ type: 'track', userId, event: r.pick(EVENTS), properties: r.pick([{}, { plan: r.pick(PLANS) }, { amount: r.pick([5, 25, '30']) }]), timestamp: at() });
    }
    if (r.next() < 0.4) out.push({ type: 'group', userId, groupId: `g${r.int(4)}`, traits: r.pick([{ employees: r.pick([10, 100, '75']) }, { tier: 'gold' }, {}]), timestamp: at() });
    if (r.next() < 0.2) {
      const anonymousId = `anon-${u}`;
      out.push({ type: 'track', anonymousId, event: r.pick(EVENTS), timestamp: at() });
      out.push({ type: 'identify', anonymousId, userId, traits: {}, timestamp: at() });
    }
  }
  return out;
}

describe('incremental evaluation agrees with full evaluation', () => {
  it.each([1, 2, 3])('random scenario (seed %i)', async (seed) => {
    gw.clock.set(NOW);
    const r = prng(seed * 7919);
    const ws = await gw.createWorkspace(`diff-${seed}`);
    const segments: string[] = [];
    const definitions: Record<string, unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      const definition = randomDefinition(r, segments);
      definitions.push(definition);
      segments.push(await createSegment(gw, ws.id, { type: 'dynamic', definition }, true));
    }
    const messages = r.shuffle(randomMessages(r, 40));
    while (messages.length) {
      const batch = messages.splice(0, 1 + r.int(25));
      await gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({ batch }).expect(200);
      if (r.next() < 0.5) await evaluateUntilIdle(gw.database.db, () => gw.clock.now(), 1 + r.int(30));
    }
    await evaluateUntilIdle(gw.database.db, () => gw.clock.now());

    const incremental = await Promise.all(segments.map((s) => memberIds(gw.database.db, ws.id, s)));
    for (const [i, id] of segments.entries()) {
      const full = await gw.api.post(`/api/workspaces/${ws.id}/segments/${id}/evaluate`).expect(200);
      expect({ segment: i, definition: definitions[i], entered: full.body.entered, exited: full.body.exited }).toEqual({ segment: i, definition: definitions[i], entered: 0, exited: 0 });
      const preview = await gw.api.post(`/api/workspaces/${ws.id}/segments/preview`).send({ definition: definitions[i], sampleSize: 100 }).expect(200);
      expect(preview.body.sample).toEqual(incremental[i]);
    }
    // the scenario is not degenerate
    expect(incremental.filter((m) => m.length > 0 && m.length < 40).length).toBeGreaterThan(2);
  });
});
