import type { Knex } from 'knex';
import type { TestGateway } from '../helpers/gateway.js';

/** Small factories for segment tests: rows inserted directly, the way ingest would leave them. */

export async function aUser(db: Knex, workspaceId: string, userId: string, opts: { traits?: Record<string, unknown>; firstSeenAt?: Date | string; lastSeenAt?: Date | string; lastSurveyResponseAt?: Date | string | null } = {}) {
  const first = new Date(opts.firstSeenAt ?? '2026-01-01T00:00:00Z');
  await db('users').insert({
    workspace_id: workspaceId,
    user_id: userId,
    traits: JSON.stringify(opts.traits ?? {}),
    first_seen_at: first,
    last_seen_at: new Date(opts.lastSeenAt ?? first),
    last_survey_response_at: opts.lastSurveyResponseAt ? new Date(opts.lastSurveyResponseAt) : null,
  });
}

export async function anAccount(db: Knex, workspaceId: string, groupId: string, traits: Record<string, unknown>, members: string[]) {
  await db('accounts').insert({ workspace_id: workspaceId, group_id: groupId, traits: JSON.stringify(traits) });
  if (members.length) await db('account_members').insert(members.map((user_id) => ({ workspace_id: workspaceId, user_id, group_id: groupId, joined_at: new Date() })));
}

export async function aSurvey(db: Knex, workspaceId: string, questions = [{ id: 'nps', type: 'nps', label: 'How likely?' }]) {
  const [row] = await db('surveys').insert({ workspace_id: workspaceId, name: 'Survey', questions: JSON.stringify(questions) }).returning('id');
  return row.id as string;
}

let seq = 0;
export async function aResponse(db: Knex, workspaceId: string, surveyId: string, userId: string, answers: Record<string, unknown>, completedAt: Date | string) {
  await db('survey_responses').insert({ workspace_id: workspaceId, survey_id: surveyId, user_id: userId, message_id: `r-${++seq}`, answers: JSON.stringify(answers), completed_at: new Date(completedAt) });
}

export async function anInteraction(db: Knex, workspaceId: string, surveyId: string, userId: string, type: 'seen' | 'dismissed', at: Date | string) {
  await db('survey_interactions').insert({ workspace_id: workspaceId, survey_id: surveyId, user_id: userId, message_id: `i-${++seq}`, type, at: new Date(at) });
}

/** The users a definition matches now (through the preview endpoint: the same compiler). */
export async function matching(gw: TestGateway, workspaceId: string, definition: unknown): Promise<string[]> {
  const res = await gw.api.post(`/api/workspaces/${workspaceId}/segments/preview`).send({ definition, sampleSize: 100 });
  if (res.status !== 200) throw new Error(`preview ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.sample;
}

export async function memberIds(db: Knex, workspaceId: string, segmentId: string): Promise<string[]> {
  return (await db('segment_members').where({ workspace_id: workspaceId, segment_id: segmentId }).orderBy('user_id').pluck('user_id')) as string[];
}

export async function createSegment(gw: TestGateway, workspaceId: string, body: Record<string, unknown>, activate = false) {
  const res = await gw.api.post(`/api/workspaces/${workspaceId}/segments`).send({ name: 'S', ...body });
  if (res.status !== 201) throw new Error(`create ${res.status}: ${JSON.stringify(res.body)}`);
  if (activate) await gw.api.patch(`/api/workspaces/${workspaceId}/segments/${res.body.id}`).send({ status: 'active' }).expect(200);
  return res.body.id as string;
}
