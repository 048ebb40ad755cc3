import type { Db } from '../db/types.js';

// All SQL of the outbound area. Set-based: batches go in as JSON arrays (json_to_recordset) or arrays (= any).

export interface SegmentIntegrationRow {
  workspace_id: string;
  write_key_enc: string;
  write_key_hint: string;
  enabled: boolean;
  survey_ids: string[] | null;
  trait_prefix: string;
  events: { completed?: string; seen?: string; dismissed?: string };
  track_seen: boolean;
  track_dismissed: boolean;
  created_at: Date;
  updated_at: Date;
}

export async function getSegmentIntegration(db: Db, workspaceId: string): Promise<SegmentIntegrationRow | undefined> {
  return db('segment_integrations').where({ workspace_id: workspaceId }).first();
}

export async function upsertSegmentIntegration(db: Db, row: Omit<SegmentIntegrationRow, 'created_at' | 'updated_at'>, now: Date): Promise<SegmentIntegrationRow> {
  const [saved] = await db('segment_integrations')
    .insert({ ...row, events: JSON.stringify(row.events), created_at: now, updated_at: now })
    .onConflict('workspace_id')
    .merge(['write_key_enc', 'write_key_hint', 'enabled', 'survey_ids', 'trait_prefix', 'events', 'track_seen', 'track_dismissed', 'updated_at'])
    .returning('*');
  return saved;
}

/** What a push needs about one response: the response, its survey, the integration and the user's accounts. */
export interface ResponseToPush {
  workspace_id: string;
  id: string;
  survey_id: string;
  survey_name: string;
  user_id: string;
  answers: Record<string, unknown>;
  completed_at: Date;
  group_ids: string[];
  attempts: number;
  /** A delivery row exists already (an earlier attempt, or a replay). */
  has_delivery: boolean;
}

export async function loadResponses(db: Db, keys: { workspaceId: string; id: string }[]): Promise<ResponseToPush[]> {
  if (!keys.length) return [];
  const { rows } = await db.raw(
    `select r.workspace_id, r.id, r.survey_id, s.name as survey_name, r.user_id, r.answers, r.completed_at,
            coalesce((select array_agg(m.group_id order by m.group_id) from account_members m
                      where m.workspace_id = r.workspace_id and m.user_id = r.user_id), '{}') as group_ids,
            coalesce(d.attempts, 0) as attempts, d.id is not null as has_delivery
       from json_to_recordset(?::json) as k(workspace_id uuid, id uuid)
       join survey_responses r on r.workspace_id = k.workspace_id and r.id = k.id
       join surveys s on s.workspace_id = r.workspace_id and s.id = r.survey_id
       left join deliveries d on d.workspace_id = r.workspace_id and d.destination = 'segment'
                             and d.destination_id is null and d.message_key = 'response:' || r.id`,
    [JSON.stringify(keys.map((k) => ({ workspace_id: k.workspaceId, id: k.id })))],
  );
  return rows;
}

export interface InteractionToPush {
  workspace_id: string;
  id: string;
  survey_id: string;
  survey_name: string;
  user_id: string;
  type: 'seen' | 'dismissed';
  at: Date;
  attempts: number;
  has_delivery: boolean;
}

export async function loadInteractions(db: Db, keys: { workspaceId: string; id: string }[]): Promise<InteractionToPush[]> {
  if (!keys.length) return [];
  const { rows } = await db.raw(
    `select i.workspace_id, i.id, i.survey_id, s.name as survey_name, i.user_id, i.type, i.at, coalesce(d.attempts, 0) as attempts, d.id is not null as has_delivery
       from json_to_recordset(?::json) as k(workspace_id uuid, id uuid)
       join survey_interactions i on i.workspace_id = k.workspace_id and i.id = k.id
       join surveys s on s.workspace_id = i.workspace_id and s.id = i.survey_id
       left join deliveries d on d.workspace_id = i.workspace_id and d.destination = 'segment'
                             and d.destination_id is null and d.message_key = 'interaction:' || i.id`,
    [JSON.stringify(keys.map((k) => ({ workspace_id: k.workspaceId, id: k.id })))],
  );
  return rows;
}

export async function getSegmentIntegrations(db: Db, workspaceIds: string[]): Promise<SegmentIntegrationRow[]> {
  if (!workspaceIds.length) return [];
  return db('segment_integrations').whereIn('workspace_id', workspaceIds);
}

/** The outcome of one attempt, to be written to the delivery log. */
export interface AttemptRecord {
  workspace_id: string;
  destination: 'segment' | 'webhook' | 'slack';
  destination_id: string | null;
  message_key: string;
  status: 'delivered' | 'retrying' | 'dead';
  attempts: number;
  status_code: number | null;
  error: string | null;
  next_attempt_at: Date | null;
  at: Date;
}

/** The job that tries a delivery again; job_key makes it the only pending attempt of that delivery. */
export interface RetryJob { task: string; payload: unknown; run_at: Date; job_key: string }

/** Writes attempt outcomes (upsert: a Segment delivery row is created by its first attempt) and schedules retries, in one transaction. */
export async function recordAttempts(db: Db, records: AttemptRecord[], retries: RetryJob[]): Promise<void> {
  if (!records.length && !retries.length) return;
  await db.transaction(async (tx) => {
    if (records.length) {
      await tx.raw(
        `insert into deliveries (workspace_id, destination, destination_id, message_key, status, attempts, last_status_code,
                                 last_error, next_attempt_at, last_attempt_at, delivered_at, created_at, updated_at)
         select x.workspace_id, x.destination, x.destination_id, x.message_key, x.status, x.attempts, x.status_code,
                x.error, x.next_attempt_at, x.at, case when x.status = 'delivered' then x.at end, x.at, x.at
           from json_to_recordset(?::json) as x(workspace_id uuid, destination text, destination_id uuid, message_key text,
                status text, attempts int, status_code int, error text, next_attempt_at timestamptz, at timestamptz)
         on conflict (workspace_id, destination, destination_id, message_key) do update set
           status = excluded.status,
           attempts = excluded.attempts,
           last_status_code = excluded.last_status_code,
           last_error = coalesce(excluded.last_error, deliveries.last_error),
           next_attempt_at = excluded.next_attempt_at,
           last_attempt_at = excluded.last_attempt_at,
           delivered_at = coalesce(excluded.delivered_at, deliveries.delivered_at),
           updated_at = excluded.updated_at`,
        [JSON.stringify(records)],
      );
    }
    await addKeyedJobs(tx, retries);
  });
}

/** graphile_worker.add_jobs with a job_key per job (addJobs in queue.ts has none). Keys must be unique within the call. */
export async function addKeyedJobs(db: Db, jobs: RetryJob[]): Promise<void> {
  if (!jobs.length) return;
  await db.raw(
    `select graphile_worker.add_jobs(array(
       select json_populate_record(null::graphile_worker.job_spec,
         json_build_object('identifier', x.task, 'payload', x.payload, 'run_at', x.run_at, 'job_key', x.job_key, 'max_attempts', 25))
       from json_to_recordset(?::json) as x(task text, payload json, run_at timestamptz, job_key text)))`,
    [JSON.stringify(jobs)],
  );
}

// ---- webhooks and Slack ----

export interface WebhookRow {
  workspace_id: string;
  id: string;
  url: string;
  segment_ids: string[];
  events: string[];
  secret_enc: string;
  created_at: Date;
}

export async function insertWebhook(db: Db, row: Omit<WebhookRow, 'id' | 'created_at'>): Promise<WebhookRow> {
  const [saved] = await db('webhooks').insert(row).returning('*');
  return saved;
}
export async function listWebhooks(db: Db, workspaceId: string): Promise<WebhookRow[]> {
  return db('webhooks').where({ workspace_id: workspaceId }).orderBy('created_at');
}
export async function getWebhook(db: Db, workspaceId: string, id: string): Promise<WebhookRow | undefined> {
  return db('webhooks').where({ workspace_id: workspaceId, id }).first();
}
export async function deleteWebhook(db: Db, workspaceId: string, id: string): Promise<boolean> {
  return (await db('webhooks').where({ workspace_id: workspaceId, id }).delete()) > 0;
}

export interface SlackRow {
  workspace_id: string;
  id: string;
  webhook_url_enc: string;
  webhook_url_hint: string;
  segment_ids: string[];
  events: string[];
  created_at: Date;
}

export async function insertSlack(db: Db, row: Omit<SlackRow, 'id' | 'created_at'>): Promise<SlackRow> {
  const [saved] = await db('slack_destinations').insert(row).returning('*');
  return saved;
}
export async function listSlack(db: Db, workspaceId: string): Promise<SlackRow[]> {
  return db('slack_destinations').where({ workspace_id: workspaceId }).orderBy('created_at');
}
export async function getSlack(db: Db, workspaceId: string, id: string): Promise<SlackRow | undefined> {
  return db('slack_destinations').where({ workspace_id: workspaceId, id }).first();
}
export async function deleteSlack(db: Db, workspaceId: string, id: string): Promise<boolean> {
  return (await db('slack_destinations').where({ workspace_id: workspaceId, id }).delete()) > 0;
}

/** The membership change a fan-out is about: the segment's name and the user's traits as they are now. */
export async function loadMembershipContext(db: Db, workspaceId: string, segmentId: string, userId: string) {
  const { rows } = await db.raw(
    `select s.name as segment_name, u.traits
       from segments s left join users u on u.workspace_id = s.workspace_id and u.user_id = ?
      where s.workspace_id = ? and s.id = ?`,
    [userId, workspaceId, segmentId],
  );
  return rows[0] as { segment_name: string; traits: Record<string, unknown> | null } | undefined;
}

/**
 * The `segment.membership` jobs of an evaluation, in its transaction: only for the changes some webhook or Slack
 * destination of the workspace subscribes to (segment and change), since a job nobody listens to would only be
 * written, run and deleted. A destination added later hears the changes evaluated after it was added.
 */
export async function addMembershipEffects(db: Db, changes: { workspaceId: string; segmentId: string; change: 'entered' | 'exited' }[]): Promise<number> {
  if (!changes.length) return 0;
  const { rows } = await db.raw(
    `with p as (
       select p, n, p ->> 'workspaceId' as workspace_id, p ->> 'segmentId' as segment_id, 'segment.' || (p ->> 'change') as event
         from json_array_elements(?::json) with ordinality as x(p, n)
     ), subscribed as (
       select distinct d.workspace_id::text, s.segment_id::text, e.event
         from (select workspace_id, segment_ids, events from webhooks
               union all select workspace_id, segment_ids, events from slack_destinations) d
         cross join lateral unnest(d.segment_ids) s(segment_id)
         cross join lateral unnest(d.events) e(event)
        where d.workspace_id = any(?::uuid[])
     ), wanted as (
       select p.p, p.n from p join subscribed s using (workspace_id, segment_id, event)
     )
     select count(*)::int as n from graphile_worker.add_jobs(array(
       select json_populate_record(null::graphile_worker.job_spec,
         json_build_object('identifier', 'segment.membership', 'payload', w.p, 'max_attempts', 25))
         from wanted w order by w.n))`,
    [JSON.stringify(changes), [...new Set(changes.map((c) => c.workspaceId))]],
  );
  return rows[0]?.n ?? 0;
}

/**
 * One delivery row per webhook and Slack destination subscribed to this segment and change, plus one job each,
 * in the caller's transaction. A repeated fan-out of the same log entry inserts nothing (unique message_key).
 */
export async function fanOutMembership(db: Db, p: {
  workspaceId: string; segmentId: string; event: string; messageKey: string; webhookBody: unknown; slackBody: unknown;
}): Promise<number> {
  const { rows } = await db.raw(
    `with targets as (
       select 'webhook' as destination, w.id as destination_id, ?::jsonb as payload
         from webhooks w where w.workspace_id = ? and ?::uuid = any(w.segment_ids) and ? = any(w.events)
       union all
       select 'slack', s.id, ?::jsonb
         from slack_destinations s where s.workspace_id = ? and ?::uuid = any(s.segment_ids) and ? = any(s.events)
     ), inserted as (
       insert into deliveries (workspace_id, destination, destination_id, message_key, payload, status)
       select ?, t.destination, t.destination_id, ?, t.payload, 'pending' from targets t
       on conflict do nothing
       returning id
     )
     select graphile_worker.add_jobs(array(
       select json_populate_record(null::graphile_worker.job_spec, json_build_object(
         'identifier', 'outbound.deliver', 'payload', json_build_object('workspaceId', ?::uuid, 'deliveryId', i.id),
         'job_key', 'delivery:' || i.id, 'max_attempts', 25))
       from inserted i)) as job
      where exists (select 1 from inserted)`,
    [
      JSON.stringify(p.webhookBody), p.workspaceId, p.segmentId, p.event,
      JSON.stringify(p.slackBody), p.workspaceId, p.segmentId, p.event,
      p.workspaceId, p.messageKey, p.workspaceId,
    ],
  );
  return rows.filter((r: { job: unknown }) => r.job !== null).length;
}

export interface DeliveryRow {
  workspace_id: string;
  id: string;
  destination: 'segment' | 'webhook' | 'slack';
  destination_id: string | null;
  message_key: string;
  payload: unknown;
  status: 'pending' | 'delivered' | 'retrying' | 'dead';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export async function getDelivery(db: Db, workspaceId: string, id: string): Promise<DeliveryRow | undefined> {
  return db('deliveries').where({ workspace_id: workspaceId, id }).first();
}

export async function listDeliveries(db: Db, workspaceId: string, f: {
  destination?: string; destinationId?: string; status?: string; limit: number; cursor?: { createdAt: string; id: string };
}): Promise<(DeliveryRow & { cursor_at: string })[]> {
  // cursor_at keeps microseconds (a JS Date would drop them and skip rows between pages).
  const q = db('deliveries').select('*', db.raw(`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`))
    .where({ workspace_id: workspaceId });
  if (f.destination) q.andWhere({ destination: f.destination });
  if (f.destinationId) q.andWhere({ destination_id: f.destinationId });
  if (f.status) q.andWhere({ status: f.status });
  if (f.cursor) q.andWhereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [f.cursor.createdAt, f.cursor.id]);
  return q.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(f.limit);
}

/** Marks a delivery pending again with a fresh retry budget; the caller adds its job in the same transaction. */
export async function resetDelivery(db: Db, workspaceId: string, id: string, now: Date): Promise<DeliveryRow | undefined> {
  const [row] = await db('deliveries').where({ workspace_id: workspaceId, id })
    .update({ status: 'pending', attempts: 0, next_attempt_at: now, updated_at: now }).returning('*');
  return row;
}

/** Stored responses completed in [from, to), optionally of some surveys: their ids, for a replay. */
export async function responseIdsBetween(db: Db, workspaceId: string, from: Date, to: Date, surveyIds?: string[]): Promise<string[]> {
  const q = db('survey_responses').where({ workspace_id: workspaceId }).andWhere('completed_at', '>=', from).andWhere('completed_at', '<', to);
  if (surveyIds) q.whereIn('survey_id', surveyIds);
  return q.orderBy('completed_at').pluck('id');
}
