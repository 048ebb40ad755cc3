import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type request from 'supertest';
import { useGateway } from '../helpers/gateway.js';
import { snapshotWorkspace, RUNS, budget, TIMEOUT, QUESTIONS } from './support.js';
import { definitionArb, hostileString } from './fuzz-arbitraries.js';

/**
 * Property-based fuzzing of segment definitions (preview and create) with workspace B's segment and survey ids
 * mixed in: always a 200/201 or a 400, never a 5xx, a preview only ever counts and samples A's users, and workspace B
 * never changes.
 */
const gw = useGateway();
let A: { id: string; ingestKey: string };
let B: { id: string; ingestKey: string };
let surveyA: string;
let surveyB: string;
let segmentB: string;
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
  segmentB = (await gw.api.post(`/api/workspaces/${B.id}/segments`).send({ name: 'B static', type: 'static' }).expect(201)).body.id;
  await gw.api.patch(`/api/workspaces/${B.id}/segments/${segmentB}`).send({ status: 'active' }).expect(200);
  await gw.api.post(`/api/workspaces/${B.id}/segments/${segmentB}/members`).send({ userIds: ['b-1', 'b-2'] }).expect(200);
  bBefore = await snapshotWorkspace(gw.database.db, B.id);
});

afterAll(() => {
  console.info(`[figures] fuzz-definitions ${JSON.stringify({ cases, byStatus: stats })}`);
});

function expectClean(res: request.Response, context: unknown) {
  cases++;
  stats[res.status] = (stats[res.status] ?? 0) + 1;
  if (res.status >= 500) throw new Error(`${res.status} ${res.text.slice(0, 300)} for ${JSON.stringify(context)?.slice(0, 500)}`);
  expect(res.headers['content-type']).toMatch(/application\/json/);
}


describe('fuzzing segment definitions', () => {
  it('preview: a count and a sample of A users, or a 400', async () => {
    const usersOfA = new Set(await gw.database.db('users').where({ workspace_id: A.id }).pluck('user_id') as string[]);
    await fc.assert(fc.asyncProperty(definitionArb([segmentB, surveyB, surveyA]), async (definition) => {
      const res = await gw.api.post(`/api/workspaces/${A.id}/segments/preview`).send({ definition });
      expectClean(res, definition);
      expect([200, 400]).toContain(res.status);
      if (res.status === 200) {
        expect(res.body.count).toBeGreaterThanOrEqual(0);
        expect(res.body.count).toBeLessThanOrEqual(usersOfA.size);
        for (const u of res.body.sample) expect(usersOfA.has(u)).toBe(true);
      }
    }), { numRuns: RUNS * 2, ...budget });
  }, TIMEOUT);

  it('create: 201 or a 400 naming the bad node', async () => {
    await fc.assert(fc.asyncProperty(definitionArb([segmentB, surveyB]), fc.oneof(hostileString, fc.constant('fuzz')), async (definition, name) => {
      const res = await gw.api.post(`/api/workspaces/${A.id}/segments`).send({ name, type: 'dynamic', definition });
      expectClean(res, { name, definition });
      expect([201, 400]).toContain(res.status);
      if (res.status === 400) expect(typeof res.body.error.message).toBe('string');
    }), { numRuns: RUNS, ...budget });
  }, TIMEOUT);

  it('another workspace\'s segment or survey matches nobody in A', async () => {
    const count = async (definition: unknown) => {
      const res = await gw.api.post(`/api/workspaces/${A.id}/segments/preview`).send({ definition });
      return res.status === 200 ? res.body.count : res.status;
    };
    expect(await count({ segment: segmentB, member: true })).not.toBe(2);
    expect([0, 400, 404]).toContain(await count({ segment: segmentB, member: true }));
    expect([0, 400, 404]).toContain(await count({ survey: surveyB, interaction: 'completed', performed: true }));
    expect([0, 400, 404]).toContain(await count({ survey: surveyB, question: 'nps', op: 'gte', value: 0 }));
    expect(await count({ trait: 'plan', op: 'eq', value: 'pro' })).toBeGreaterThanOrEqual(aUsers.length); // control
  });

  it('left workspace B untouched', async () => {
    expect(await snapshotWorkspace(gw.database.db, B.id)).toEqual(bBefore);
  });
});
