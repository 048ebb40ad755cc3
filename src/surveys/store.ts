import type { Knex } from 'knex';
import crypto from 'node:crypto';
import type { Db } from '../db/types.js';
import type { Question } from './schema.js';

export interface SurveyRow {
  workspace_id: string;
  id: string;
  name: string;
  status: string;
  questions: Question[];
  audience_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ResponseRow {
  id: string;
  survey_id: string;
  user_id: string;
  answers: Record<string, unknown>;
  completed_at: Date;
  received_at: Date;
  /** completed_at in epoch microseconds, exact (for the cursor). */
  at_us: string;
}

const SURVEY_COLUMNS = ['workspace_id', 'id', 'name', 'status', 'questions', 'audience_id', 'created_at', 'updated_at'];

export async function insertSurvey(db: Db, workspaceId: string, s: { name: string; status: string; questions: Question[]; audienceId: string | null }): Promise<SurveyRow> {
  const [row] = await db('surveys')
    .insert({ workspace_id: workspaceId, name: s.name, status: s.status, questions: JSON.stringify(s.questions), audience_id: s.audienceId })
    .returning(SURVEY_COLUMNS);
  return row;
}

export async function getSurvey(db: Db, workspaceId: string, id: string): Promise<SurveyRow | undefined> {
  return db('surveys').select(SURVEY_COLUMNS).where({ workspace_id: workspaceId, id }).first();
}

export async function listSurveys(db: Db, workspaceId: string, status?: string): Promise<SurveyRow[]> {
  const q = db('surveys').select(SURVEY_COLUMNS).where({ workspace_id: workspaceId }).orderBy('created_at').orderBy('id');
  if (status) q.andWhere({ status });
  return q;
}

export async function updateSurvey(db: Db, workspaceId: string, id: string, patch: { name?: string; status?: string; questions?: Question[]; audience_id?: string | null }): Promise<SurveyRow | undefined> {
  const [row] = await db('surveys')
    .where({ workspace_id: workspaceId, id })
    .update({ ...patch, ...(patch.questions ? { questions: JSON.stringify(patch.questions) } : {}), updated_at: db.fn.now() })
    .returning(SURVEY_COLUMNS);
  return row;
}

/** Inserts a response unless its messageId is already stored; returns the new id, or null for a replay. */
export async function insertResponse(db: Db, r: { workspaceId: string; messageId: string | null; surveyId: string; userId: string; answers: Record<string, unknown>; completedAt: Date; receivedAt: Date }): Promise<string | null> {
  const { rows } = await db.raw(
    `insert into survey_responses (workspace_id, message_id, survey_id, user_id, answers, completed_at, received_at)
     values (?, ?, ?, ?, ?::jsonb, ?, ?)
     on conflict (workspace_id, message_id) do nothing
     returning id`,
    [r.workspaceId, r.messageId ?? `ag-${crypto.randomUUID()}`, r.surveyId, r.userId, JSON.stringify(r.answers), r.completedAt, r.receivedAt],
  );
  return rows[0]?.id ?? null;
}

export async function insertInteraction(db: Db, r: { workspaceId: string; messageId: string | null; surveyId: string; userId: string; type: string; at: Date; receivedAt: Date }): Promise<string | null> {
  const { rows } = await db.raw(
    `insert into survey_interactions (workspace_id, message_id, survey_id, user_id, type, at, received_at)
     values (?, ?, ?, ?, ?, ?, ?)
     on conflict (workspace_id, message_id) do nothing
     returning id`,
    [r.workspaceId, r.messageId ?? `ag-${crypto.randomUUID()}`, r.surveyId, r.userId, r.type, r.at, r.receivedAt],
  );
  return rows[0]?.id ?? null;
}

/**
 * A response or interaction from a user we have not seen yet creates the user; first/last seen widen.
 * Returns whether the user was created (then every segment must check them).
 */
export async function touchUser(db: Db, workspaceId: string, userId: string, at: Date, opts: { responded: boolean }): Promise<boolean> {
  const { rows } = await db.raw(
    `insert into users as u (workspace_id, user_id, first_seen_at, last_seen_at, last_survey_response_at)
     values (?, ?, ?, ?, ?)
     on conflict (workspace_id, user_id) do update set
       first_seen_at = least(u.first_seen_at, excluded.first_seen_at),
       last_seen_at = greatest(u.last_seen_at, excluded.last_seen_at),
       last_survey_response_at = greatest(u.last_survey_response_at, excluded.last_survey_response_at),
       updated_at = now()
     returning xmax = 0 as created`,
    [workspaceId, userId, at, at, opts.responded ? at : null],
  );
  return rows[0].created;
}

export interface ResponseFilter {
  surveyId?: string;
  segment?: { id: string; everyone: boolean };
  from?: Date;
  to?: Date;
}

/** The WHERE clause shared by listing and summary: tenancy, survey, time window, current segment members. */
function responseWhere(workspaceId: string, f: ResponseFilter) {
  const sql: string[] = ['r.workspace_id = ?'];
  const params: Knex.RawBinding[] = [workspaceId];
  if (f.surveyId) { sql.push('r.survey_id = ?'); params.push(f.surveyId); }
  if (f.from) { sql.push('r.completed_at >= ?'); params.push(f.from); }
  if (f.to) { sql.push('r.completed_at < ?'); params.push(f.to); }
  if (f.segment?.everyone) {
    sql.push('exists (select 1 from users u where u.workspace_id = r.workspace_id and u.user_id = r.user_id)');
  } else if (f.segment) {
    sql.push('exists (select 1 from segment_members m where m.workspace_id = r.workspace_id and m.segment_id = ? and m.user_id = r.user_id)');
    params.push(f.segment.id);
  }
  return { sql: sql.join(' and '), params };
}

/**
 * Newest first, keyset-paged on (completed_at, id): a page boundary is a position, not an offset,
 * so responses arriving while a reader pages never shift or repeat rows.
 */
export async function listResponses(db: Db, workspaceId: string, f: ResponseFilter, page: { limit: number; after?: { us: string; id: string } }): Promise<ResponseRow[]> {
  const w = responseWhere(workspaceId, f);
  let keyset = '';
  const params = [...w.params];
  if (page.after) {
    keyset = `and (r.completed_at, r.id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)`;
    params.push(page.after.us, page.after.id);
  }
  const { rows } = await db.raw(
    `select r.id, r.survey_id, r.user_id, r.answers, r.completed_at, r.received_at,
            (extract(epoch from r.completed_at) * 1000000)::bigint::text as at_us
       from survey_responses r
      where ${w.sql} ${keyset}
      order by r.completed_at desc, r.id desc
      limit ?`,
    [...params, page.limit],
  );
  return rows;
}

export interface SummaryRows {
  count: number;
  answered: Map<string, number>;
  values: Map<string, { value: unknown; count: number }[]>;
}

/**
 * One pass over the matching responses: the count, answers per question and counts per value
 * (each selected choice of a multiple-choice answer counts once). Text answers get no distribution.
 */
export async function summarizeResponses(db: Db, workspaceId: string, f: ResponseFilter, distributionQuestionIds: string[]): Promise<SummaryRows> {
  const w = responseWhere(workspaceId, f);
  const { rows } = await db.raw(
    `with r as materialized (
       select r.answers from survey_responses r where ${w.sql}
     ), a as (
       select a.key as qid, a.value from r cross join jsonb_each(r.answers) a
     )
     select 'count' as kind, null as qid, null::jsonb as value, count(*)::int as n from r
     union all
     select 'answered', qid, null, count(*)::int from a group by qid
     union all
     select 'value', a.qid, coalesce(e.value, a.value), count(*)::int
       from a left join lateral jsonb_array_elements(case when jsonb_typeof(a.value) = 'array' then a.value end) e on true
      where a.qid = any(?::text[]) and (jsonb_typeof(a.value) <> 'array' or e.value is not null)
      group by a.qid, coalesce(e.value, a.value)`,
    [...w.params, distributionQuestionIds],
  );
  const out: SummaryRows = { count: 0, answered: new Map(), values: new Map() };
  for (const row of rows as { kind: string; qid: string | null; value: unknown; n: number }[]) {
    if (row.kind === 'count') out.count = row.n;
    else if (row.kind === 'answered') out.answered.set(row.qid!, row.n);
    else {
      const list = out.values.get(row.qid!) ?? [];
      list.push({ value: row.value, count: row.n });
      out.values.set(row.qid!, list);
    }
  }
  return out;
}

export interface SegmentRef { id: string; type: string; status: string; name: string }

export async function getSegmentRef(db: Db, workspaceId: string, id: string): Promise<SegmentRef | undefined> {
  return db('segments').select('id', 'type', 'status', 'name').where({ workspace_id: workspaceId, id }).first();
}
