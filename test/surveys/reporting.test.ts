import { describe, expect, it, beforeAll } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aSegment, npsSurvey } from './factories.js';

const gw = useGateway();
let ws: { id: string; ingestKey: string };
let surveyId: string;
let otherSurveyId: string;
let promotersSeg: string;
let everyoneSeg: string;
const base = () => `/api/workspaces/${ws.id}`;
const respond = (body: object) => gw.http.post('/v1/responses').auth(ws.ingestKey, '').send(body).expect(200);

// nps answers by user (completed on day i of January 2026):
//   p1 10, p2 9, p3 9, n1 8, n2 7, d1 6, d2 3, d3 0, x1 (no nps answer), p4 10
const answers: [string, Record<string, unknown>][] = [
  ['p1', { nps: 10, ease: 5, plan: 'pro', uses: ['reports', 'api'], why: 'great' }],
  ['p2', { nps: 9, ease: 4, plan: 'pro', uses: ['reports'] }],
  ['p3', { nps: 9, ease: 4, plan: 'enterprise', uses: [] }],
  ['n1', { nps: 8, ease: 3, plan: 'free', uses: ['alerts'] }],
  ['n2', { nps: 7, plan: 'free' }],
  ['d1', { nps: 6, ease: 2, plan: 'free', uses: ['alerts', 'reports'], why: 'slow' }],
  ['d2', { nps: 3, ease: 1 }],
  ['d3', { nps: 0, ease: 1, plan: 'pro' }],
  ['x1', { why: 'no score' }],
  ['p4', { nps: 10, ease: 5, plan: 'enterprise', uses: ['api'] }],
];
const day = (i: number) => new Date(Date.UTC(2026, 0, i + 1, 12)).toISOString();

beforeAll(async () => {
  ws = await gw.createWorkspace('Reporting');
  surveyId = (await gw.api.post(`${base()}/surveys`).send(npsSurvey).expect(201)).body.id;
  otherSurveyId = (await gw.api.post(`${base()}/surveys`).send(npsSurvey).expect(201)).body.id;
  for (const [i, [userId, a]] of answers.entries()) await respond({ userId, surveyId, answers: a, completedAt: day(i) });
  await respond({ userId: 'p1', surveyId: otherSurveyId, answers: { nps: 1 }, completedAt: day(3) });
  promotersSeg = await aSegment(gw.database.db, ws.id, { name: 'Promoters', members: ['p1', 'p2', 'p3', 'p4', 'd3'] });
  everyoneSeg = await aSegment(gw.database.db, ws.id, { name: 'Everyone', type: 'everyone' });
});

describe('GET /responses', () => {
  it('filters by survey, time window and segment', async () => {
    const all = await gw.api.get(`${base()}/responses`).expect(200);
    expect(all.body.responses).toHaveLength(11);
    const bySurvey = await gw.api.get(`${base()}/responses?surveyId=${surveyId}`).expect(200);
    expect(bySurvey.body.responses.map((r: { userId: string }) => r.userId)).toEqual(answers.map(([u]) => u).reverse());
    expect(bySurvey.body.responses[0]).toMatchObject({ userId: 'p4', surveyId, answers: answers[9][1], completedAt: day(9) });
    const window = await gw.api.get(`${base()}/responses?surveyId=${surveyId}&from=${day(2)}&to=${day(5)}`).expect(200);
    expect(window.body.responses.map((r: { userId: string }) => r.userId)).toEqual(['n2', 'n1', 'p3']);
    const seg = await gw.api.get(`${base()}/responses?segmentId=${promotersSeg}`).expect(200);
    expect(seg.body.responses.map((r: { userId: string }) => r.userId)).toEqual(['p4', 'd3', 'p1', 'p3', 'p2', 'p1']);
    const everyone = await gw.api.get(`${base()}/responses?segmentId=${everyoneSeg}&surveyId=${surveyId}`).expect(200);
    expect(everyone.body.responses).toHaveLength(10);
  });

  it('reads the segment membership at read time', async () => {
    const s = await aSegment(gw.database.db, ws.id, { name: 'Changing', members: ['n1'] });
    expect((await gw.api.get(`${base()}/responses?segmentId=${s}`).expect(200)).body.responses).toHaveLength(1);
    await gw.database.db('segment_members').insert({ workspace_id: ws.id, segment_id: s, user_id: 'n2' });
    expect((await gw.api.get(`${base()}/responses?segmentId=${s}`).expect(200)).body.responses).toHaveLength(2);
  });

  it('pages with a cursor that stays stable while responses arrive', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { responses: { id: string }[]; nextCursor: string | null } } = await gw.api.get(`${base()}/responses?surveyId=${surveyId}&limit=3${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      seen.push(...res.body.responses.map((r: { id: string }) => r.id));
      cursor = res.body.nextCursor;
      // new responses land, both newer than everything and in the middle of the range already paged
      if (pages === 0) {
        await respond({ userId: 'late1', surveyId, answers: { nps: 5 }, completedAt: '2026-06-01T00:00:00Z' });
        await respond({ userId: 'late2', surveyId, answers: { nps: 5 }, completedAt: day(8) });
      }
      pages++;
    } while (cursor);
    const expected = await gw.database.db('survey_responses').where({ workspace_id: ws.id, survey_id: surveyId }).whereNotIn('user_id', ['late1', 'late2']).pluck('id');
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => expected.includes(id))).toHaveLength(10);
    expect(pages).toBe(4);
    await gw.database.db('survey_responses').where({ workspace_id: ws.id }).whereIn('user_id', ['late1', 'late2']).delete();
    await gw.api.get(`${base()}/responses?cursor=garbage`).expect(400);
    await gw.api.get(`${base()}/responses?limit=0`).expect(400);
  });
});

describe('GET /surveys/:id/summary', () => {
  it('counts, distributes and scores NPS as computed by hand', async () => {
    const res = await gw.api.get(`${base()}/surveys/${surveyId}/summary`).expect(200);
    expect(res.body.count).toBe(10);
    // 4 promoters (10, 9, 9, 10), 2 passives (8, 7), 3 detractors (6, 3, 0) of 9 answers: (4 - 3) / 9 = 11.1%
    expect(res.body.nps).toEqual({ questionId: 'nps', score: 11.1, promoters: 4, passives: 2, detractors: 3 });
    expect(res.body.questions.nps).toEqual({
      type: 'nps', answered: 9, average: 6.9,
      counts: { 0: 1, 1: 0, 2: 0, 3: 1, 4: 0, 5: 0, 6: 1, 7: 1, 8: 1, 9: 2, 10: 2 },
    });
    // ease: 5, 4, 4, 3, 2, 1, 1, 5 → mean 25 / 8 = 3.125
    expect(res.body.questions.ease).toEqual({ type: 'rating', answered: 8, average: 3.1, counts: { 1: 2, 2: 1, 3: 1, 4: 2, 5: 2 } });
    expect(res.body.questions.plan).toEqual({ type: 'single_choice', answered: 8, counts: { free: 3, pro: 3, enterprise: 2 } });
    expect(res.body.questions.uses).toEqual({ type: 'multiple_choice', answered: 6, counts: { reports: 3, alerts: 2, api: 2 } });
    expect(res.body.questions.why).toEqual({ type: 'text', answered: 3 });
  });

  it('compares segments side by side', async () => {
    const res = await gw.api.get(`${base()}/surveys/${surveyId}/summary?segmentId=${promotersSeg}`).expect(200);
    // p1 10, p2 9, p3 9, d3 0, p4 10: 4 promoters, 1 detractor of 5 → 60
    expect(res.body).toMatchObject({ count: 5, segmentId: promotersSeg, nps: { score: 60, promoters: 4, passives: 0, detractors: 1 } });
    const window = await gw.api.get(`${base()}/surveys/${surveyId}/summary?from=${day(8)}`).expect(200);
    // x1 (no nps) and p4 10 → 1 promoter of 1
    expect(window.body).toMatchObject({ count: 2, nps: { score: 100, promoters: 1, passives: 0, detractors: 0 } });
    const empty = await gw.api.get(`${base()}/surveys/${surveyId}/summary?from=2030-01-01`).expect(200);
    expect(empty.body).toMatchObject({ count: 0, nps: { score: null, promoters: 0 } });
    await gw.api.get(`${base()}/surveys/${surveyId}/summary?segmentId=nope`).expect(400);
  });
});
