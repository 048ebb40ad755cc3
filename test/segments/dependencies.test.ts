import { describe, expect, it } from 'vitest';
import { inputsOf, newUserMayMatch } from '../../src/segments/dependencies.js';
import type { Definition } from '../../src/segments/schema.js';

const everyone = '00000000-0000-4000-8000-00000000000e';
const list = '00000000-0000-4000-8000-00000000000f';
const types = new Map([[everyone, 'everyone'], [list, 'static']]);
const may = (def: unknown) => newUserMayMatch(def as Definition, types);

describe('which segments a user created just now may match', () => {
  it('absent traits, accounts and answers match only negative operators', () => {
    expect(may({ trait: 'plan', op: 'eq', value: 'pro' })).toBe(false);
    expect(may({ trait: 'plan', op: 'exists' })).toBe(false);
    expect(may({ trait: 'plan', op: 'neq', value: 'pro' })).toBe(true);
    expect(may({ trait: 'plan', op: 'not_exists' })).toBe(true);
    expect(may({ accountTrait: 'tier', op: 'in', value: ['gold'] })).toBe(false);
    expect(may({ accountTrait: 'tier', op: 'not_in', value: ['gold'] })).toBe(true);
    expect(may({ survey: list, question: 'nps', op: 'gte', value: 9 })).toBe(false);
    expect(may({ survey: list, question: 'nps', op: 'not_exists' })).toBe(true);
  });

  it('no events: counts that hold for zero; no interactions; only everyone segments', () => {
    expect(may({ event: 'Upgrade' })).toBe(false);
    expect(may({ event: 'Upgrade', performed: false })).toBe(true);
    expect(may({ event: 'Upgrade', count: { op: 'lt', value: 3 }, withinDays: 7 })).toBe(true);
    expect(may({ survey: 'any', interaction: 'seen', performed: true })).toBe(false);
    expect(may({ survey: 'any', interaction: 'dismissed', performed: false })).toBe(true);
    expect(may({ segment: everyone, member: true })).toBe(true);
    expect(may({ segment: list, member: true })).toBe(false);
    expect(may({ segment: list, member: false })).toBe(true);
  });

  it('automatic fields are set: unknown, so groups that depend on them may match', () => {
    expect(may({ attribute: 'firstSeenAt', op: 'within_last', days: 7 })).toBe(true);
    expect(may({ not: { attribute: 'lastSeenAt', op: 'exists' } })).toBe(true);
    expect(may({ all: [{ attribute: 'firstSeenAt', op: 'exists' }, { trait: 'plan', op: 'eq', value: 'pro' }] })).toBe(false);
    expect(may({ any: [{ attribute: 'firstSeenAt', op: 'exists' }, { trait: 'plan', op: 'eq', value: 'pro' }] })).toBe(true);
    expect(may({ all: [{ trait: 'plan', op: 'neq', value: 'pro' }, { not: { event: 'Upgrade' } }] })).toBe(true);
    expect(may({ not: { any: [{ trait: 'plan', op: 'neq', value: 'pro' }, { event: 'Upgrade' }] } })).toBe(false);
  });
});

describe('the inputs a definition reads', () => {
  it('last seen: windows of a day or more and presence read the window mark, dates and shorter windows every move', () => {
    const input = (def: unknown) => [...inputsOf(def as Definition)];
    expect(input({ attribute: 'lastSeenAt', op: 'within_last', days: 7 })).toEqual(['attribute:lastSeenAt:window']);
    expect(input({ attribute: 'lastSeenAt', op: 'more_than_ago', days: 1 })).toEqual(['attribute:lastSeenAt:window']);
    expect(input({ attribute: 'lastSeenAt', op: 'not_exists' })).toEqual(['attribute:lastSeenAt:window']);
    expect(input({ attribute: 'lastSeenAt', op: 'within_last', days: 0.5 })).toEqual(['attribute:lastSeenAt']);
    expect(input({ attribute: 'lastSeenAt', op: 'after', value: '2026-01-01' })).toEqual(['attribute:lastSeenAt']);
    expect(input({ attribute: 'firstSeenAt', op: 'within_last', days: 7 })).toEqual(['attribute:firstSeenAt']);
    expect(input({ attribute: 'lastSurveyResponseAt', op: 'exists' })).toEqual(['attribute:lastSurveyResponseAt', 'survey:*']);
  });
});
