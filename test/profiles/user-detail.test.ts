import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aSegment, identify, minutesAgo } from './directory-helpers.js';

const gw = useGateway();

describe('user detail', () => {
  let ws: { id: string; ingestKey: string };
  let surveyId: string;
  let staticSegment: string;
  let everyone: string;
  let left: string;
  const t = (m: number) => minutesAgo(gw, m);

  beforeAll(async () => {
    ws = await gw.createWorkspace('Detail');
    await identify(gw, ws.ingestKey, [{ userId: 'ada', traits: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', plan: 'pro' }, at: t(200) }]);
    // 60 track calls, one a minute: only the newest 50 come back.
    const tracks = Array.from({ length: 60 }, (_, i) => ({ type: 'track', userId: 'ada', event: `Step ${i}`, properties: { i }, timestamp: t(100 - i).toISOString() }));
    const group = { type: 'group', userId: 'ada', groupId: 'acme', traits: { name: 'Acme', employees: 50 }, timestamp: t(150).toISOString() };
    await gw.http.post('/v1/batch').auth(ws.ingestKey, '').send({ batch: [...tracks, group] }).expect(200);
    await identify(gw, ws.ingestKey, [{ userId: 'grace', traits: { name: 'Grace Hopper' }, at: t(5) }]);

    // Surveys, segments and the membership log are other areas' tables: written directly here.
    const db = gw.database.db;
    [{ id: surveyId }] = await db('surveys').insert({ workspace_id: ws.id, name: 'NPS Q4', questions: JSON.stringify([{ id: 'nps', type: 'nps', label: 'How likely…' }]) }).returning('id');
    await db('survey_responses').insert([
      { workspace_id: ws.id, message_id: 'r1', survey_id: surveyId, user_id: 'ada', answers: { nps: 7 }, completed_at: t(90) },
      { workspace_id: ws.id, message_id: 'r2', survey_id: surveyId, user_id: 'ada', answers: { nps: 10 }, completed_at: t(30) },
      { workspace_id: ws.id, message_id: 'r3', survey_id: surveyId, user_id: 'grace', answers: { nps: 3 }, completed_at: t(20) },
    ]);
    await db('users').where({ workspace_id: ws.id, user_id: 'ada' }).update({ last_survey_response_at: t(30) });
    staticSegment = await aSegment(gw, ws.id, { name: 'Beta', members: [] });
    left = await aSegment(gw, ws.id, { name: 'Trial', type: 'dynamic' });
    everyone = await aSegment(gw, ws.id, { name: 'All users', type: 'everyone' });
    await aSegment(gw, ws.id, { name: 'Old', status: 'archived', members: ['ada'] });
    await db('segment_members').insert({ workspace_id: ws.id, segment_id: staticSegment, user_id: 'ada', entered_at: t(40) });
    await db('membership_log').insert([
      { workspace_id: ws.id, segment_id: left, user_id: 'ada', change: 'entered', cause: 'incremental', at: t(80) },
      { workspace_id: ws.id, segment_id: staticSegment, user_id: 'ada', change: 'entered', cause: 'manual', at: t(40) },
      { workspace_id: ws.id, segment_id: left, user_id: 'ada', change: 'exited', cause: 'schedule', at: t(35) },
      { workspace_id: ws.id, segment_id: left, user_id: 'grace', change: 'entered', cause: 'full', at: t(3) },
    ]);
  });

  it('keeps the contract fields', async () => {
    const { body } = await gw.api.get(`/api/workspaces/${ws.id}/users/ada`).expect(200);
    expect(body).toMatchObject({
      userId: 'ada',
      traits: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', plan: 'pro' },
      accounts: [{ groupId: 'acme', traits: { name: 'Acme', employees: 50 }, joinedAt: t(150).toISOString() }],
      firstSeenAt: t(200).toISOString(),
      lastSeenAt: t(41).toISOString(),
      lastSurveyResponseAt: t(30).toISOString(),
      segments: [staticSegment, everyone],
    });
    expect(body.email).toBe('ada@example.com');
    expect(body.name).toBe('Ada Lovelace');
  });

  it('shows segments with when each was entered (archived ones left out)', async () => {
    const { body } = await gw.api.get(`/api/workspaces/${ws.id}/users/ada`).expect(200);
    const created = (await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'ada' }).first('created_at')).created_at as Date;
    expect(body.segmentEntries).toEqual([
      { segmentId: staticSegment, name: 'Beta', type: 'static', status: 'active', enteredAt: t(40).toISOString() },
      { segmentId: everyone, name: 'All users', type: 'everyone', status: 'active', enteredAt: created.toISOString() },
    ]);
  });

  it('shows the newest 50 events, newest first', async () => {
    const { body } = await gw.api.get(`/api/workspaces/${ws.id}/users/ada`).expect(200);
    expect(body.recentEvents).toHaveLength(50);
    expect(body.recentEvents[0]).toMatchObject({ type: 'track', event: 'Step 59', properties: { i: 59 }, timestamp: t(41).toISOString() });
    expect(body.recentEvents[49]).toMatchObject({ event: 'Step 10', timestamp: t(90).toISOString() });
    const times = body.recentEvents.map((e: { timestamp: string }) => e.timestamp);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('shows survey responses with the survey name, newest first', async () => {
    const { body } = await gw.api.get(`/api/workspaces/${ws.id}/users/ada`).expect(200);
    expect(body.responses.map((r: object) => ({ ...r, id: undefined }))).toEqual([
      { id: undefined, surveyId, surveyName: 'NPS Q4', answers: { nps: 10 }, completedAt: t(30).toISOString() },
      { id: undefined, surveyId, surveyName: 'NPS Q4', answers: { nps: 7 }, completedAt: t(90).toISOString() },
    ]);
  });

  it("shows the user's membership log, newest first", async () => {
    const { body } = await gw.api.get(`/api/workspaces/${ws.id}/users/ada`).expect(200);
    expect(body.membershipLog.map(({ id: _id, ...rest }: { id: number }) => rest)).toEqual([
      { segmentId: left, segmentName: 'Trial', change: 'exited', cause: 'schedule', at: t(35).toISOString() },
      { segmentId: staticSegment, segmentName: 'Beta', change: 'entered', cause: 'manual', at: t(40).toISOString() },
      { segmentId: left, segmentName: 'Trial', change: 'entered', cause: 'incremental', at: t(80).toISOString() },
    ]);
  });

  it('answers empty lists where a user has no history, and 404 for an unknown user', async () => {
    const { body } = await gw.api.get(`/api/workspaces/${ws.id}/users/grace`).expect(200);
    expect(body).toMatchObject({ name: 'Grace Hopper', email: null, accounts: [], segments: [everyone], lastSurveyResponseAt: null });
    expect(body.recentEvents.map((e: { type: string }) => e.type)).toEqual(['identify']);
    expect(body.responses).toHaveLength(1);
    expect(body.membershipLog).toHaveLength(1);
    const missing = await gw.api.get(`/api/workspaces/${ws.id}/users/nobody`).expect(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it("does not show another workspace's user under the same id", async () => {
    const other = await gw.createWorkspace('Other');
    await identify(gw, other.ingestKey, [{ userId: 'ada', traits: { email: 'ada@other.io' }, at: t(1) }]);
    const mine = await gw.api.get(`/api/workspaces/${ws.id}/users/ada`).expect(200);
    expect(mine.body.traits.email).toBe('ada@example.com');
    expect(mine.body.responses).toHaveLength(2);
    const theirs = await gw.api.get(`/api/workspaces/${other.id}/users/ada`).expect(200);
    expect(theirs.body).toMatchObject({ traits: { email: 'ada@other.io' }, accounts: [], segments: [], responses: [], membershipLog: [] });
    expect(theirs.body.recentEvents).toHaveLength(1);
  });
});
