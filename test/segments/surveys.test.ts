import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aResponse, aSurvey, aUser, anInteraction, matching } from './factories.js';

const gw = useGateway();
let ws: string;
let s1: string;
let s2: string;
const NOW = new Date('2026-06-15T12:00:00Z');

beforeAll(async () => {
  gw.clock.set(NOW);
  ws = (await gw.createWorkspace()).id;
  const db = gw.database.db;
  s1 = await aSurvey(db, ws, [{ id: 'nps', type: 'nps', label: 'NPS' }, { id: 'why', type: 'text', label: 'Why?' }, { id: 'features', type: 'multiple', label: 'Which?' }]);
  s2 = await aSurvey(db, ws);
  for (const u of ['promoter', 'detractor', 'changed', 'seen', 'silent']) await aUser(db, ws, u);
  await aResponse(db, ws, s1, 'promoter', { nps: 10, why: 'Great SUPPORT', features: ['export', 'Slack'] }, '2026-06-10T00:00:00Z');
  await aResponse(db, ws, s1, 'detractor', { nps: '3' }, '2026-03-01T00:00:00Z');
  // the latest answer counts
  await aResponse(db, ws, s1, 'changed', { nps: 10 }, '2026-01-01T00:00:00Z');
  await aResponse(db, ws, s1, 'changed', { nps: 6 }, '2026-06-01T00:00:00Z');
  await anInteraction(db, ws, s2, 'seen', 'seen', '2026-06-14T00:00:00Z');
  await anInteraction(db, ws, s1, 'seen', 'dismissed', '2026-01-14T00:00:00Z');
});

describe('survey answer conditions', () => {
  const cases: [string, () => Record<string, unknown>, string[]][] = [
    ['nps gte 9 (latest response)', () => ({ survey: s1, question: 'nps', op: 'gte', value: 9 }), ['promoter']],
    ['nps lte 6, numeric strings too', () => ({ survey: s1, question: 'nps', op: 'lte', value: 6 }), ['changed', 'detractor']],
    ['text contains, case-insensitive', () => ({ survey: s1, question: 'why', op: 'contains', value: 'support' }), ['promoter']],
    ['multiple choice contains a choice', () => ({ survey: s1, question: 'features', op: 'contains', value: 'slack' }), ['promoter']],
    ['not_exists: no answer or no response', () => ({ survey: s1, question: 'why', op: 'not_exists' }), ['changed', 'detractor', 'seen', 'silent']],
  ];
  it.each(cases)('%s', async (_n, def, expected) => {
    expect(await matching(gw, ws, def())).toEqual(expected);
  });
});

describe('survey interaction conditions', () => {
  const cases: [string, () => Record<string, unknown>, string[]][] = [
    ['completed a given survey', () => ({ survey: s1, interaction: 'completed' }), ['changed', 'detractor', 'promoter']],
    ['completed any survey within 30 days', () => ({ survey: 'any', interaction: 'completed', withinDays: 30 }), ['changed', 'promoter']],
    ['seen within 7 days', () => ({ survey: 'any', interaction: 'seen', withinDays: 7 }), ['seen']],
    ['seen survey 1: nobody', () => ({ survey: s1, interaction: 'seen' }), []],
    ['dismissed, all time', () => ({ survey: s1, interaction: 'dismissed' }), ['seen']],
    ['never completed any', () => ({ survey: 'any', interaction: 'completed', performed: false }), ['seen', 'silent']],
  ];
  it.each(cases)('%s', async (_n, def, expected) => {
    expect(await matching(gw, ws, def())).toEqual(expected);
  });
});
