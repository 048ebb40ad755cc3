import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type request from 'supertest';
import { useGateway } from '../helpers/gateway.js';
import { snapshotWorkspace, RUNS, budget, TIMEOUT, QUESTIONS } from './support.js';
import { hostileString, hostileValue, hostileKey } from './fuzz-arbitraries.js';

/**
 * Property-based fuzzing of the survey ingest endpoints (/v1/responses, /v1/interactions) with workspace B's
 * survey id mixed in: always a clean 2xx/4xx, never a 5xx, never a change to workspace B. (Segment definitions
 * are fuzzed the same way with `definitionArb` once the segment engine is mounted.)
 */
const gw = useGateway();
let A: { id: string; ingestKey: string };
let B: { id: string; ingestKey: string };
let surveyA: string;
let surveyB: string;
let bBefore: Record<string, string>;
const aUsers = ['a-1', 'a-2', 'a-3'];
let cases = 0;
const stats: Record<string, number> = {};

beforeAll(async () => {
  A = await gw.createWorkspace('A');
  B = await gw.createWorkspace('B');
  for (const [ws, users] of [[A, aUsers], [B, ['b-1', 'b-2']]] as const) {
    await gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({ batch: users.map((userId) => ({ type: 'identify', userId, traits: { plan: 'pro' } })) }).expect(200);
  }
  surveyA = (await gw.api.post(`/api/workspaces/${A.id}/surveys`).send({ name: 'A survey', questions: QUESTIONS }).expect(201)).body.id;
  surveyB = (await gw.api.post(`/api/workspaces/${B.id}/surveys`).send({ name: 'B survey', questions: QUESTIONS }).expect(201)).body.id;
  await gw.http.post('/v1/responses').auth(B.ingestKey, '').send({ userId: 'b-1', surveyId: surveyB, answers: { nps: 10 } }).expect(200);
  bBefore = await snapshotWorkspace(gw.database.db, B.id);
});

afterAll(() => {
  console.info(`[figures] fuzz-surveys ${JSON.stringify({ cases, byStatus: stats })}`);
});

function expectClean(res: request.Response, context: unknown) {
  cases++;
  stats[res.status] = (stats[res.status] ?? 0) + 1;
  if (res.status >= 500) throw new Error(`${res.status} ${res.text.slice(0, 300)} for ${JSON.stringify(context)?.slice(0, 500)}`);
  expect(res.headers['content-type']).toMatch(/application\/json/);
}

const surveyIdArb = () => fc.oneof(fc.constant(surveyA), fc.constant(surveyB), fc.uuid(), hostileString, fc.integer());
const answerArb = fc.oneof(fc.integer({ min: -5, max: 15 }), fc.constantFrom('free', 'pro', 'enterprise'), hostileString, hostileValue);
const instantArb = fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('-271821-04-20T00:00:00Z', '+275760-09-13T00:00:00Z', 'soon', ''), fc.integer(), hostileValue);

describe('fuzzing the survey endpoints', () => {
  it('/v1/responses', async () => {
    const valid = fc.record({
      userId: fc.oneof(fc.constantFrom(...aUsers), hostileString.filter((x) => x.trim().length > 0 && x.length < 200)),
      surveyId: fc.constant(surveyA),
      answers: fc.record({ nps: fc.integer({ min: 0, max: 10 }), plan: fc.constantFrom('free', 'pro'), why: hostileString.filter((x) => x.length < 4000) }, { requiredKeys: [] }),
      messageId: fc.uuid(),
    });
    await fc.assert(fc.asyncProperty(
      fc.oneof(valid, fc.record({
        userId: fc.oneof(fc.constantFrom(...aUsers, 'b-1'), hostileString, fc.integer(), hostileValue),
        surveyId: surveyIdArb(),
        answers: fc.oneof(fc.dictionary(fc.oneof(fc.constantFrom('nps', 'plan', 'why'), hostileKey), answerArb, { maxKeys: 4 }), hostileValue),
        completedAt: instantArb,
        messageId: fc.oneof(fc.uuid(), hostileString),
      }, { requiredKeys: [] })),
      async (body) => {
        const res = await gw.http.post('/v1/responses').auth(A.ingestKey, '').send(body);
        expectClean(res, body);
        if (body.surveyId === surveyB) expect(res.status).toBeGreaterThanOrEqual(400); // B's survey is not A's
      },
    ), { numRuns: RUNS, ...budget });
  }, TIMEOUT);

  it('/v1/interactions', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        userId: fc.oneof(fc.constantFrom(...aUsers), hostileString, hostileValue),
        surveyId: surveyIdArb(),
        type: fc.oneof(fc.constantFrom('seen', 'dismissed', 'completed'), hostileString),
        at: instantArb,
        messageId: fc.oneof(fc.uuid(), hostileString),
      }, { requiredKeys: [] }),
      async (body) => {
        const res = await gw.http.post('/v1/interactions').auth(A.ingestKey, '').send(body);
        expectClean(res, body);
        if (body.surveyId === surveyB) expect(res.status).toBeGreaterThanOrEqual(400);
      },
    ), { numRuns: RUNS, ...budget });
  }, TIMEOUT);
});

describe('workspace B', () => {
  it('left workspace B untouched', async () => {
    expect(await snapshotWorkspace(gw.database.db, B.id)).toEqual(bBefore);
  });
});
