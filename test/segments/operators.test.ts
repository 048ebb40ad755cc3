import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aUser, anAccount, matching } from './factories.js';

const gw = useGateway();
let ws: string;
const NOW = new Date('2026-06-15T12:00:00Z');

// Each user holds one shape of value for the traits the scenarios read.
beforeAll(async () => {
  gw.clock.set(NOW);
  ws = (await gw.createWorkspace()).id;
  const db = gw.database.db;
  await aUser(db, ws, 'num', { traits: { plan: 'Pro', n: 10, d: '2026-06-10T00:00:00Z', b: true, tags: ['Beta', 'vip'], email: 'Ann@Example.com' } });
  await aUser(db, ws, 'numstr', { traits: { plan: 'pro ', n: '10', d: '2026-06-01', b: 'TRUE', tags: 'alpha,beta', email: 'bob@example.org' } });
  await aUser(db, ws, 'other', { traits: { plan: 'free', n: 2.5, d: '2025-01-01T08:00:00+02:00', b: false, email: 'carl@EXAMPLE.com' } });
  await aUser(db, ws, 'weird', { traits: { plan: 42, n: 'ten', d: 'yesterday', b: 'yes', tags: { a: 1 } } });
  await aUser(db, ws, 'nulls', { traits: { plan: null, n: null, d: null, b: null } });
  await aUser(db, ws, 'absent', { traits: {} });
});

const ALL = ['absent', 'nulls', 'num', 'numstr', 'other', 'weird'];
const not = (...ids: string[]) => ALL.filter((u) => !ids.includes(u));

describe('trait operators on every value type (absent and null traits included)', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['eq string, case-insensitive', { trait: 'plan', op: 'eq', value: 'PRO' }, ['num']],
    ['eq number matches numbers and numeric strings', { trait: 'n', op: 'eq', value: 10 }, ['num', 'numstr']],
    ['eq numeric string by value', { trait: 'n', op: 'eq', value: '10.0' }, ['num', 'numstr']],
    ['eq boolean matches booleans and "true" strings', { trait: 'b', op: 'eq', value: true }, ['num', 'numstr']],
    ['eq false', { trait: 'b', op: 'eq', value: false }, ['other']],
    ['eq date by value', { trait: 'd', op: 'eq', value: '2026-06-01T00:00:00Z' }, ['numstr']],
    ['eq number against a string trait does not match', { trait: 'plan', op: 'eq', value: 42 }, ['weird']],
    ['neq: absent and null match', { trait: 'plan', op: 'neq', value: 'pro' }, not('num')],
    ['in', { trait: 'plan', op: 'in', value: ['free', 'PRO', 42] }, ['num', 'other', 'weird']],
    ['not_in: absent matches', { trait: 'plan', op: 'not_in', value: ['free', 'pro'] }, not('num', 'other')],
    ['contains on a string', { trait: 'email', op: 'contains', value: 'EXAMPLE' }, ['num', 'numstr', 'other']],
    ['contains on an array element', { trait: 'tags', op: 'contains', value: 'beta' }, ['num', 'numstr']],
    ['not_contains: absent matches', { trait: 'email', op: 'not_contains', value: 'example.com' }, not('num', 'other')],
    ['starts_with', { trait: 'email', op: 'starts_with', value: 'ann@' }, ['num']],
    ['ends_with', { trait: 'email', op: 'ends_with', value: '.COM' }, ['num', 'other']],
    ['gt number (numeric strings count, non-numbers never)', { trait: 'n', op: 'gt', value: 3 }, ['num', 'numstr']],
    ['gte', { trait: 'n', op: 'gte', value: 10 }, ['num', 'numstr']],
    ['lt', { trait: 'n', op: 'lt', value: 10 }, ['other']],
    ['lte numeric string value', { trait: 'n', op: 'lte', value: '2.5' }, ['other']],
    ['gt on a text trait never matches', { trait: 'plan', op: 'gt', value: 0 }, ['weird']],
    ['before (date-only = 00:00 UTC, strict)', { trait: 'd', op: 'before', value: '2026-06-01' }, ['other']],
    ['after', { trait: 'd', op: 'after', value: '2026-06-01' }, ['num']],
    ['after an instant with offset', { trait: 'd', op: 'after', value: '2025-01-01T05:59:59Z' }, ['num', 'numstr', 'other']],
    ['within_last days', { trait: 'd', op: 'within_last', days: 7 }, ['num']],
    ['more_than_ago days', { trait: 'd', op: 'more_than_ago', days: 7 }, ['numstr', 'other']],
    ['exists (null counts as absent)', { trait: 'n', op: 'exists' }, ['num', 'numstr', 'other', 'weird']],
    ['not_exists', { trait: 'n', op: 'not_exists' }, ['absent', 'nulls']],
  ];
  it.each(cases)('%s', async (_name, definition, expected) => {
    expect(await matching(gw, ws, definition)).toEqual(expected.sort());
  });
});

describe('groups', () => {
  it('nests all / any / not', async () => {
    const def = { all: [{ trait: 'n', op: 'exists' }, { not: { any: [{ trait: 'plan', op: 'eq', value: 'free' }, { trait: 'b', op: 'eq', value: true }] } }] };
    expect(await matching(gw, ws, def)).toEqual(['weird']);
  });
  it('not of a condition on an absent trait is true', async () => {
    expect(await matching(gw, ws, { not: { trait: 'plan', op: 'eq', value: 'pro' } })).toEqual(not('num'));
  });
});

describe('account traits and attributes', () => {
  beforeAll(async () => {
    const db = gw.database.db;
    await anAccount(db, ws, 'big', { employees: 500, name: 'Big Co' }, ['num']);
    await anAccount(db, ws, 'small', { employees: '20' }, ['num', 'numstr']);
  });
  it('matches when any account matches; negative operators when none does', async () => {
    expect(await matching(gw, ws, { accountTrait: 'employees', op: 'gte', value: 100 })).toEqual(['num']);
    expect(await matching(gw, ws, { accountTrait: 'employees', op: 'lt', value: 100 })).toEqual(['num', 'numstr']);
    expect(await matching(gw, ws, { accountTrait: 'name', op: 'not_exists' })).toEqual(not('num'));
  });
  it('reads firstSeenAt / lastSeenAt / lastSurveyResponseAt', async () => {
    const db = gw.database.db;
    await aUser(db, ws, 'recent', { firstSeenAt: '2026-06-14T00:00:00Z', lastSurveyResponseAt: '2026-06-15T00:00:00Z' });
    expect(await matching(gw, ws, { attribute: 'firstSeenAt', op: 'within_last', days: 2 })).toEqual(['recent']);
    expect(await matching(gw, ws, { attribute: 'lastSurveyResponseAt', op: 'exists' })).toEqual(['recent']);
    expect((await matching(gw, ws, { attribute: 'firstSeenAt', op: 'before', value: '2026-02-01' })).length).toBe(6);
  });
});

describe('invalid definitions', () => {
  const bad: [unknown, string][] = [
    [{ all: [{ trait: 'plan', op: 'eq', value: 'x' }, { trait: 'plan', op: 'gt', value: 'abc' }] }, 'all.1.value'],
    [{ any: [] }, 'any'],
    [{ all: [{ nope: 1 }] }, 'all.0'],
    [{ trait: 'plan', op: 'in', value: 'x' }, 'value'],
    [{ attribute: 'lastSeenAt', op: 'within_last' }, 'days'],
    [{ event: 'x', count: { op: 'gte', value: -1 } }, 'count.value'],
    [{ not: { survey: 'not-a-uuid', question: 'q', op: 'eq', value: 1 } }, 'not.survey'],
  ];
  it.each(bad)('400 naming the node: %j', async (definition, path) => {
    const res = await gw.api.post(`/api/workspaces/${ws}/segments/preview`).send({ definition });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(`definition.${path}`);
  });
});
