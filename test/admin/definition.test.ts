// The builder's conversion between its editable tree and CONTRACT §3 definitions (a browser module without DOM use).
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module served to the browser
import { fromDefinition, toDefinition, allProblems, newCondition, newGroup } from '../../src/admin/public/views/definition.js';
// @ts-expect-error plain JS module served to the browser
import { parseUserIds } from '../../src/admin/public/views/csv.js';

const SURVEY = '0b6f3c1e-8a53-4d0e-9c3c-2f1f0f3b5a11';
const SEGMENT = '5d2b8a4e-1c7f-4e6a-b0d2-9a8e7f6c5b4a';

describe('segment builder definitions', () => {
  it('round-trips every condition type through the editable tree', () => {
    const definition = {
      all: [
        { trait: 'plan', op: 'eq', value: 'pro' },
        { trait: 'seats', op: 'gte', value: 5 },
        { trait: 'country', op: 'in', value: ['FR', 'DE'] },
        { trait: 'email', op: 'ends_with', value: '@acme.com' },
        { trait: 'name', op: 'exists' },
        { accountTrait: 'employees', op: 'gte', value: 100 },
        { attribute: 'lastSeenAt', op: 'within_last', days: 30 },
        { attribute: 'firstSeenAt', op: 'before', value: '2026-01-01' },
        { event: 'Clicked Upgrade', count: { op: 'gte', value: 3 }, withinDays: 30, where: [{ property: 'plan', op: 'eq', value: 'pro' }] },
        { event: 'Churned', performed: false, withinDays: 7 },
        { event: 'Signed Up' },
        { survey: SURVEY, question: 'nps', op: 'gte', value: 9 },
        { survey: 'any', interaction: 'dismissed', performed: true, withinDays: 90 },
        { segment: SEGMENT, member: false },
        { any: [{ trait: 'plan', op: 'eq', value: 'team' }, { not: { all: [{ trait: 'beta', op: 'eq', value: true }] } }] },
      ],
    };
    const tree = fromDefinition(definition);
    expect(allProblems(tree)).toBe(0);
    expect(toDefinition(tree)).toEqual(definition);
  });

  it('wraps a negated condition in a group, and a lone condition in "all"', () => {
    expect(toDefinition(fromDefinition({ not: { trait: 'plan', op: 'eq', value: 'free' } }))).toEqual({ not: { all: [{ trait: 'plan', op: 'eq', value: 'free' }] } });
    expect(toDefinition(fromDefinition({ trait: 'plan', op: 'eq', value: 'free' }))).toEqual({ all: [{ trait: 'plan', op: 'eq', value: 'free' }] });
  });

  it('types what was typed: numbers for numeric operators, strings for text operators', () => {
    const c = { ...newCondition('trait'), name: 'zip', op: 'contains', value: '75' };
    const n = { ...newCondition('trait'), name: 'seats', op: 'gt', value: '10' };
    expect(toDefinition(newGroup('any', [c, n]))).toEqual({ any: [{ trait: 'zip', op: 'contains', value: '75' }, { trait: 'seats', op: 'gt', value: 10 }] });
  });

  it('finds what a person must still fill in', () => {
    expect(allProblems(newGroup('all', [newCondition('trait')]))).toBe(2); // name and value
    expect(allProblems(newGroup('all', []))).toBe(1);
    expect(allProblems(newGroup('all', [{ ...newCondition('event'), name: 'X', withinDays: '0' }]))).toBe(1);
  });
});

describe('CSV of user ids', () => {
  it('reads one id a line, or the named column, without duplicates', () => {
    expect(parseUserIds('a\nb\n\nb\r\nc')).toEqual({ userIds: ['a', 'b', 'c'] });
    expect(parseUserIds('name,user_id\n"Lovelace, Ada",ada\nBob,bob\n')).toEqual({ userIds: ['ada', 'bob'] });
    expect(parseUserIds('a,b\n1,2').error).toMatch(/userId, user_id or email/);
  });
});
