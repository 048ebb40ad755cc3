import { describe, expect, it } from 'vitest';
import { decide, Decider, type AudienceDef, type SegmentState } from '../../src/audiences/eligibility.js';

const seg = (id: string, status = 'active', type = 'static'): SegmentState => ({ id, name: id.toUpperCase(), type, status });
const segments = new Map([seg('a'), seg('b'), seg('c'), seg('d', 'draft'), seg('p', 'paused')].map((s) => [s.id, s]));

describe('Decider (one shared answer per membership pattern)', () => {
  it.each<[string, AudienceDef]>([
    ['any', { id: 'x', name: 'x', include: ['a', 'b', 'd'], match: 'any', exclude: ['c'] }],
    ['all', { id: 'x', name: 'x', include: ['a', 'p'], match: 'all', exclude: ['c', 'd'] }],
    ['all with a draft', { id: 'x', name: 'x', include: ['a', 'd'], match: 'all', exclude: [] }],
    ['exclude only', { id: 'x', name: 'x', include: [], match: 'any', exclude: ['a', 'zzz'] }],
  ])('answers like decide() for every membership pattern (%s)', (_name, def) => {
    const decider = new Decider(def, segments);
    const ids = ['a', 'b', 'c', 'd', 'p'];
    // every subset twice over, so the second pass is answered from the shared answers
    for (let round = 0; round < 2; round++) {
      for (let mask = 0; mask < 1 << ids.length; mask++) {
        const isMember = (id: string) => (mask & (1 << ids.indexOf(id))) !== 0;
        const answer = decider.decide(isMember);
        expect(answer).toEqual(decide(def, segments, isMember));
        expect(Object.isFrozen(answer) && Object.isFrozen(answer.reasons) && answer.reasons.every(Object.isFrozen)).toBe(true);
      }
    }
  });
});
