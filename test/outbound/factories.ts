import type { Knex } from 'knex';
import { runOnce, Logger } from 'graphile-worker';
import type { TestGateway } from '../helpers/gateway.js';
import { outboundTasks, type OutboundOptions } from '../../src/outbound/tasks.js';

export async function aSurvey(db: Knex, workspaceId: string, name = 'NPS', questions = [{ id: 'nps', type: 'nps', label: 'How likely?' }, { id: 'why', type: 'text', label: 'Why?' }]) {
  const [s] = await db('surveys').insert({ workspace_id: workspaceId, name, questions: JSON.stringify(questions) }).returning('*');
  return s as { id: string; name: string };
}

export async function aUser(db: Knex, workspaceId: string, userId: string, traits: Record<string, unknown> = {}) {
  const now = new Date();
  await db('users').insert({ workspace_id: workspaceId, user_id: userId, traits: JSON.stringify(traits), first_seen_at: now, last_seen_at: now }).onConflict(['workspace_id', 'user_id']).merge(['traits']);
}

export async function anAccountMember(db: Knex, workspaceId: string, userId: string, groupId: string) {
  await db('accounts').insert({ workspace_id: workspaceId, group_id: groupId }).onConflict(['workspace_id', 'group_id']).ignore();
  await db('account_members').insert({ workspace_id: workspaceId, user_id: userId, group_id: groupId, joined_at: new Date() });
}

export async function aResponse(db: Knex, workspaceId: string, surveyId: string, userId: string, answers: Record<string, unknown>, completedAt = new Date('2026-11-20T10:00:00.000Z')) {
  const [r] = await db('survey_responses').insert({
    workspace_id: workspaceId, survey_id: surveyId, user_id: userId, answers: JSON.stringify(answers), completed_at: completedAt,
    message_id: `m-${Math.random().toString(36).slice(2)}`,
  }).returning('*');
  return r as { id: string };
}

export async function anInteraction(db: Knex, workspaceId: string, surveyId: string, userId: string, type: 'seen' | 'dismissed', at = new Date('2026-11-20T09:00:00.000Z')) {
  const [r] = await db('survey_interactions').insert({
    workspace_id: workspaceId, survey_id: surveyId, user_id: userId, type, at, message_id: `i-${Math.random().toString(36).slice(2)}`,
  }).returning('*');
  return r as { id: string };
}

export async function aSegment(db: Knex, workspaceId: string, name = 'Power Users') {
  const [s] = await db('segments').insert({ workspace_id: workspaceId, name, type: 'static', status: 'active' }).returning('*');
  return s as { id: string; name: string };
}

/** A membership_log row and its effect job, as the incremental evaluator writes them. */
export async function aMembershipChange(db: Knex, workspaceId: string, segmentId: string, userId: string, change: 'entered' | 'exited', at = new Date('2026-11-20T12:00:00.000Z')) {
  const [log] = await db('membership_log').insert({ workspace_id: workspaceId, segment_id: segmentId, user_id: userId, change, cause: 'incremental', at }).returning('*');
  return { workspaceId, segmentId, userId, change, at: at.toISOString(), logId: String(log.id) };
}

/**
 * Runs every job that is due now with the outbound task list, in this process. The HTTP timeout is generous: the
 * machine is shared, and a spurious timeout would leave a retry that a later test runs.
 */
export async function runJobs(gw: TestGateway, opts: Partial<OutboundOptions> = {}) {
  const outbound = outboundTasks(gw.ctx, { timeoutMs: 15_000, ...opts });
  try {
    await runOnce({ connectionString: gw.database.url, taskList: outbound.tasks, logger: silentLogger });
  } finally {
    await outbound.close();
  }
}

/** Moves every scheduled job to now: the time a retry waits for has passed. */
export async function makeJobsDue(db: Knex) {
  await db.raw(`update graphile_worker._private_jobs set run_at = now() where run_at > now()`);
}

/** The outbox jobs of one workspace (tests share a database). */
export async function pendingJobs(db: Knex, workspaceId: string) {
  const { rows } = await db.raw(`select j.id, t.identifier as task, j.payload, j.run_at, j.key, j.attempts, j.locked_by, j.last_error
    from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
    where j.payload->>'workspaceId' = ? order by j.id`, [workspaceId]);
  return rows as { id: string; task: string; payload: any; run_at: Date; key: string | null; attempts: number; locked_by: string | null; last_error: string | null }[];
}

export const silentLogger = new Logger(() => () => undefined);
