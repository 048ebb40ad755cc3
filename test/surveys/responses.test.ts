import { describe, expect, it, beforeAll } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { npsSurvey } from './factories.js';

const gw = useGateway();
let ws: { id: string; ingestKey: string };
let surveyId: string;
const base = () => `/api/workspaces/${ws.id}`;
const respond = (body: object) => gw.http.post('/v1/responses').auth(ws.ingestKey, '').send(body);
const interact = (body: object) => gw.http.post('/v1/interactions').auth(ws.ingestKey, '').send(body);

async function jobs(task: string) {
  const { rows } = await gw.database.db.raw(`select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = ? order by j.id`, [task]);
  return rows.map((r: { payload: unknown }) => r.payload);
}

beforeAll(async () => {
  ws = await gw.createWorkspace('Surveys');
  const res = await gw.api.post(`${base()}/surveys`).send(npsSurvey).expect(201);
  surveyId = res.body.id;
});

describe('surveys CRUD', () => {
  it('creates, reads, lists and updates a survey', async () => {
    const created = await gw.api.post(`${base()}/surveys`).send({ name: 'Quick', questions: [{ id: 'r', type: 'rating', label: 'Rate' }] }).expect(201);
    expect(created.body).toMatchObject({ name: 'Quick', status: 'active', audienceId: null, questions: [{ id: 'r', type: 'rating', scale: { min: 1, max: 5 } }] });
    await gw.api.get(`${base()}/surveys/${created.body.id}`).expect(200);
    const patched = await gw.api.patch(`${base()}/surveys/${created.body.id}`).send({ status: 'paused', name: 'Quicker' }).expect(200);
    expect(patched.body).toMatchObject({ status: 'paused', name: 'Quicker' });
    const list = await gw.api.get(`${base()}/surveys?status=paused`).expect(200);
    expect(list.body.surveys.map((s: { id: string }) => s.id)).toEqual([created.body.id]);
  });

  it('answers 400 naming the field for bad surveys', async () => {
    const cases: [object, string][] = [
      [{ name: 'x', questions: [] }, 'questions'],
      [{ name: 'x', questions: [{ id: 'a', type: 'single_choice', label: 'A' }] }, 'questions.0.choices'],
      [{ name: 'x', questions: [{ id: 'a', type: 'nps', label: 'A' }, { id: 'a', type: 'text', label: 'B' }] }, 'questions'],
      [{ name: 'x', questions: [{ id: 'a', type: 'slider', label: 'A' }] }, 'questions.0.type'],
      [{ name: 'x', questions: [{ id: 'a', type: 'rating', label: 'A', scale: { min: 5, max: 1 } }] }, 'questions.0.scale'],
      [{ name: 'x', questions: [{ id: 'a', type: 'nps', label: 'A' }], audienceId: '00000000-0000-4000-8000-000000000000' }, 'audienceId'],
    ];
    for (const [body, path] of cases) {
      const res = await gw.api.post(`${base()}/surveys`).send(body).expect(400);
      expect(res.body.error.code).toBe('invalid');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
  });

  it('accepts an audience of the workspace', async () => {
    const audience = await gw.api.post(`${base()}/audiences`).send({ name: 'All', include: [] }).expect(201);
    const res = await gw.api.post(`${base()}/surveys`).send({ ...npsSurvey, audienceId: audience.body.id }).expect(201);
    expect(res.body.audienceId).toBe(audience.body.id);
    const cleared = await gw.api.patch(`${base()}/surveys/${res.body.id}`).send({ audienceId: null }).expect(200);
    expect(cleared.body.audienceId).toBeNull();
  });
});

describe('POST /v1/responses answer validation', () => {
  const valid = { nps: 9, ease: 4, plan: 'pro', uses: ['reports', 'api'], why: 'fast' };
  it('accepts answers that fit every question type', async () => {
    await respond({ userId: 'v1', surveyId, answers: valid }).expect(200, { success: true });
  });

  it.each([
    ['nps', 11], ['nps', -1], ['nps', 7.5], ['nps', '9'],
    ['ease', 0], ['ease', 6], ['ease', 3.5],
    ['plan', 'gold'], ['plan', ['pro']],
    ['uses', ['reports', 'fax']], ['uses', 'reports'], ['uses', ['api', 'api']],
    ['why', 42], ['why', 'x'.repeat(5001)],
    ['unknown', 'x'],
  ])('rejects %s = %j', async (qid, value) => {
    const res = await respond({ userId: 'v2', surveyId, answers: { ...valid, [qid]: value } }).expect(400);
    expect(res.body).toMatchObject({ success: false, code: 'invalid' });
    expect(res.body.issues.map((i: { path: string }) => i.path)).toContain(`answers.${qid}`);
  });

  it('rejects a response without answers, a missing userId, an unknown survey and a bad key', async () => {
    await respond({ userId: 'v2', surveyId, answers: {} }).expect(400);
    await respond({ surveyId, answers: valid }).expect(400);
    await respond({ userId: 'v2', surveyId: '00000000-0000-4000-8000-000000000000', answers: valid }).expect(404);
    const outOfRange = await respond({ userId: 'v2', surveyId, answers: valid, completedAt: '-100000-01-01T00:00:00Z' }).expect(400);
    expect(outOfRange.body.message).toContain('completedAt');
    await gw.http.post('/v1/responses').auth('nope', '').send({ userId: 'v2', surveyId, answers: valid }).expect(401);
    const stored = await gw.database.db('survey_responses').where({ workspace_id: ws.id, user_id: 'v2' });
    expect(stored).toHaveLength(0);
  });

  it('enforces required questions', async () => {
    const s = await gw.api.post(`${base()}/surveys`).send({ name: 'Req', questions: [{ id: 'a', type: 'nps', label: 'A', required: true }, { id: 'b', type: 'text', label: 'B' }] }).expect(201);
    const res = await respond({ userId: 'v3', surveyId: s.body.id, answers: { b: 'hi' } }).expect(400);
    expect(res.body.issues).toEqual([{ path: 'answers.a', message: 'this question is required' }]);
  });
});

describe('response effects', () => {
  it('stores the response, creates the user, marks it dirty and enqueues the push, all together', async () => {
    const completedAt = '2026-01-02T03:04:05.000Z';
    await respond({ userId: 'new-user', surveyId, answers: { nps: 10 }, completedAt, messageId: 'm-1' }).expect(200);
    const response = await gw.database.db('survey_responses').where({ workspace_id: ws.id, message_id: 'm-1' }).first();
    expect(response).toMatchObject({ user_id: 'new-user', survey_id: surveyId, answers: { nps: 10 } });
    expect(response.completed_at.toISOString()).toBe(completedAt);
    const user = await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'new-user' }).first();
    expect(user.first_seen_at.toISOString()).toBe(completedAt);
    expect(user.last_survey_response_at.toISOString()).toBe(completedAt);
    const dirty = await gw.database.db('dirty_users').where({ workspace_id: ws.id, user_id: 'new-user' }).first();
    // (a brand-new user is also marked '*' by the segment engine's new-user trigger: every segment re-checks it)
    expect(dirty.inputs).toEqual(expect.arrayContaining(['*', 'attribute', `interaction:${surveyId}`, `survey:${surveyId}`]));
    expect(await jobs('segment.push-response')).toContainEqual({ workspaceId: ws.id, responseId: response.id });
  });

  it('a replayed messageId answers 200 and changes nothing', async () => {
    const before = (await jobs('segment.push-response')).length;
    await respond({ userId: 'new-user', surveyId, answers: { nps: 0 }, completedAt: '2026-03-01T00:00:00Z', messageId: 'm-1' }).expect(200, { success: true });
    const rows = await gw.database.db('survey_responses').where({ workspace_id: ws.id, message_id: 'm-1' });
    expect(rows).toHaveLength(1);
    expect(rows[0].answers).toEqual({ nps: 10 });
    expect((await jobs('segment.push-response')).length).toBe(before);
    const user = await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'new-user' }).first();
    expect(user.last_survey_response_at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });

  it('keeps the latest response time and the earliest first-seen time', async () => {
    await respond({ userId: 'new-user', surveyId, answers: { nps: 5 }, completedAt: '2025-12-01T00:00:00Z' }).expect(200);
    let user = await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'new-user' }).first();
    expect(user.first_seen_at.toISOString()).toBe('2025-12-01T00:00:00.000Z');
    expect(user.last_survey_response_at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    await respond({ userId: 'new-user', surveyId, answers: { nps: 5 }, completedAt: '2026-02-01T00:00:00Z' }).expect(200);
    user = await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'new-user' }).first();
    expect(user.last_survey_response_at.toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(user.last_seen_at.toISOString()).toBe('2026-02-01T00:00:00.000Z');
  });

  it('records interactions with their own job, and de-duplicates them', async () => {
    await interact({ userId: 'seer', surveyId, type: 'seen', messageId: 'i-1' }).expect(200, { success: true });
    await interact({ userId: 'seer', surveyId, type: 'seen', messageId: 'i-1' }).expect(200, { success: true });
    await interact({ userId: 'seer', surveyId, type: 'dismissed', at: '2026-01-01T00:00:00Z' }).expect(200);
    await interact({ userId: 'seer', surveyId, type: 'completed' }).expect(400);
    await interact({ userId: 'seer', surveyId, type: 'seen', at: 8.64e15 }).expect(400);
    const rows = await gw.database.db('survey_interactions').where({ workspace_id: ws.id, user_id: 'seer' }).orderBy('at');
    expect(rows.map((r) => r.type)).toEqual(['dismissed', 'seen']);
    const user = await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'seer' }).first();
    expect(user.last_survey_response_at).toBeNull();
    const dirty = await gw.database.db('dirty_users').where({ workspace_id: ws.id, user_id: 'seer' }).first();
    expect(dirty.inputs).toContain(`interaction:${surveyId}`);
    const payloads = await jobs('segment.push-interaction');
    expect(payloads.filter((p: { interactionId: string }) => rows.some((r) => r.id === p.interactionId))).toHaveLength(2);
  });

  it('answers 200 only after commit: a failing transaction leaves no row, no user and no job', async () => {
    // A trigger that fails the job insert makes the whole transaction roll back.
    const db = gw.database.db;
    await db.raw(`create function ag_test_fail() returns trigger language plpgsql as $$ begin raise exception 'boom'; end $$`);
    await db.raw(`create trigger ag_test_fail before insert on dirty_users for each row execute function ag_test_fail()`);
    try {
      await respond({ userId: 'ghost', surveyId, answers: { nps: 3 }, messageId: 'm-ghost' }).expect(500);
    } finally {
      await db.raw(`drop trigger ag_test_fail on dirty_users; drop function ag_test_fail()`);
    }
    expect(await db('survey_responses').where({ workspace_id: ws.id, message_id: 'm-ghost' })).toHaveLength(0);
    expect(await db('users').where({ workspace_id: ws.id, user_id: 'ghost' })).toHaveLength(0);
    // and the same messageId then goes through
    await respond({ userId: 'ghost', surveyId, answers: { nps: 3 }, messageId: 'm-ghost' }).expect(200);
    expect(await db('survey_responses').where({ workspace_id: ws.id, message_id: 'm-ghost' })).toHaveLength(1);
  });
});
