import type { Db } from '../db/types.js';
import type { Definition, Schedule, SegmentStatus } from './schema.js';
import { Frag, sql, join, rowsOf } from './sql.js';

/** SQL of the segment area: segments, members, membership log and size history. */

export interface SegmentRow {
  workspace_id: string;
  id: string;
  name: string;
  description: string | null;
  type: 'dynamic' | 'static' | 'everyone';
  status: SegmentStatus;
  definition: Definition | null;
  schedule: Schedule | null;
  last_evaluated_at: Date | null;
  last_scheduled_at: Date | null;
  created_at: Date;
  updated_at: Date;
  size?: number;
}

export type Cause = 'full' | 'incremental' | 'schedule' | 'manual';
export interface MembershipChange { id: number; segment_id: string; user_id: string; change: 'entered' | 'exited'; at: Date }

const raw = rowsOf;

export async function insertSegment(db: Db, workspaceId: string, s: { name: string; description?: string | null; type: string; definition?: Definition | null; schedule?: Schedule | null }): Promise<SegmentRow> {
  const [row] = await raw<SegmentRow>(db, sql`insert into segments (workspace_id, name, description, type, definition, schedule)
     values (${workspaceId}::uuid, ${s.name}, ${s.description ?? null}, ${s.type}, ${s.definition ? JSON.stringify(s.definition) : null}::jsonb, ${s.schedule ? JSON.stringify(s.schedule) : null}::jsonb)
     returning *`);
  return row;
}

export async function getSegment(db: Db, workspaceId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<SegmentRow | undefined> {
  const lock = opts.forUpdate ? new Frag(' for update', []) : new Frag('', []);
  const [row] = await raw<SegmentRow>(db, sql`select * from segments where workspace_id = ${workspaceId}::uuid and id = ${id}::uuid${lock}`);
  return row;
}

/** Archived segments only when asked for by status; otherwise every other status (or the one asked for). */
export async function listSegments(db: Db, workspaceId: string, status?: SegmentStatus): Promise<SegmentRow[]> {
  const filter = status ? sql` and s.status = ${status}` : sql` and s.status <> 'archived'`;
  return raw<SegmentRow>(db, sql`select s.* from segments s where s.workspace_id = ${workspaceId}::uuid${filter} order by s.created_at, s.id`);
}

/** All segments of a workspace, for reference checks (cycles, types). */
export async function allSegments(db: Db, workspaceId: string): Promise<Pick<SegmentRow, 'id' | 'type' | 'status' | 'definition'>[]> {
  return raw(db, sql`select id, type, status, definition from segments where workspace_id = ${workspaceId}::uuid`);
}

export async function segmentTypes(db: Db, workspaceId: string): Promise<Map<string, string>> {
  const rows = await allSegments(db, workspaceId);
  return new Map(rows.map((r) => [r.id, r.type]));
}

export async function activeDynamicSegments(db: Db, workspaceIds: string[]): Promise<SegmentRow[]> {
  return raw<SegmentRow>(db, sql`select * from segments where workspace_id = any(${workspaceIds}::uuid[]) and status = 'active' and type = 'dynamic' and definition is not null`);
}

export async function updateSegment(db: Db, workspaceId: string, id: string, fields: Partial<Pick<SegmentRow, 'name' | 'description' | 'definition' | 'schedule' | 'status' | 'last_scheduled_at'>>): Promise<SegmentRow> {
  const set: Record<string, unknown> = { updated_at: db.raw('now()') };
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    set[k] = (k === 'definition' || k === 'schedule') && v !== null ? JSON.stringify(v) : v;
  }
  const [row] = await db('segments').where({ workspace_id: workspaceId, id }).update(set).returning('*');
  return row as SegmentRow;
}

export async function segmentSize(db: Db, workspaceId: string, s: Pick<SegmentRow, 'id' | 'type'>): Promise<number> {
  const [r] = s.type === 'everyone'
    ? await raw<{ n: number }>(db, sql`select count(*) as n from users where workspace_id = ${workspaceId}::uuid`)
    : await raw<{ n: number }>(db, sql`select count(*) as n from segment_members where workspace_id = ${workspaceId}::uuid and segment_id = ${s.id}::uuid`);
  return Number(r.n);
}

/** Members ordered by user id, after the cursor's user id. Everyone segments list the users table. */
export async function listMembers(db: Db, workspaceId: string, s: Pick<SegmentRow, 'id' | 'type'>, limit: number, after?: string): Promise<{ user_id: string; entered_at: Date }[]> {
  const from = s.type === 'everyone'
    ? sql`select user_id, first_seen_at as entered_at from users where workspace_id = ${workspaceId}::uuid`
    : sql`select user_id, entered_at from segment_members where workspace_id = ${workspaceId}::uuid and segment_id = ${s.id}::uuid`;
  const cursor = after !== undefined ? sql` and user_id > ${after}` : new Frag('', []);
  return raw(db, sql`${from}${cursor} order by user_id limit ${limit}`);
}

export async function sizeHistory(db: Db, workspaceId: string, segmentId: string, limit: number) {
  return raw<{ at: Date; size: number; entered: number; exited: number; cause: string }>(db, sql`select at, size, entered, exited, cause from segment_size_history
     where workspace_id = ${workspaceId}::uuid and segment_id = ${segmentId}::uuid order by at desc limit ${limit}`);
}

export async function recordSize(db: Db, workspaceId: string, segmentId: string, r: { size: number; entered: number; exited: number; cause: Cause; at: Date }) {
  await raw(db, sql`insert into segment_size_history (workspace_id, segment_id, at, size, entered, exited, cause)
     values (${workspaceId}::uuid, ${segmentId}::uuid, ${r.at.toISOString()}::timestamptz, ${r.size}, ${r.entered}, ${r.exited}, ${r.cause})`);
}

export interface DiffSpec {
  workspaceId: string;
  segmentId: string;
  /** `select user_id ...`: the members the segment should have within the scope. */
  target: Frag;
  /** Users the diff may touch; absent = the whole segment. */
  scope?: string[];
  cause: Cause;
  at: Date;
}

/**
 * The diff as one statement. Target and current members meet in a FULL JOIN (always a hash or merge join, so linear
 * whatever the row estimates of the compiled predicate); only the rows that differ are inserted, deleted and logged.
 */
function diffCtes(d: DiffSpec, n = 0): Frag {
  const name = (base: string) => new Frag(`${base}_${n}`, []); // our own CTE names, numbered
  const inScope = d.scope ? sql` and m.user_id = any(${d.scope}::text[])` : new Frag('', []);
  const ws = sql`${d.workspaceId}::uuid`;
  const seg = sql`${d.segmentId}::uuid`;
  const at = sql`${d.at.toISOString()}::timestamptz`;
  return sql`${name('target')} as materialized (${d.target}),
    ${name('cur')} as materialized (
      select m.ctid as tid, m.user_id from segment_members m where m.workspace_id = ${ws} and m.segment_id = ${seg}${inScope}
    ), ${name('diff')} as materialized (
      select coalesce(t.user_id, c.user_id) as user_id, t.user_id is not null as entering, c.tid
        from ${name('target')} t full join ${name('cur')} c on c.user_id = t.user_id
       where t.user_id is null or c.user_id is null
    ), ${name('ins')} as (
      insert into segment_members (workspace_id, segment_id, user_id, entered_at)
      select ${ws}, ${seg}, d.user_id, ${at} from ${name('diff')} d where d.entering
      on conflict do nothing
      returning user_id
    ), ${name('del')} as (
      -- By the ctids read in cur (same snapshot): a TID scan, linear whatever the row estimates. The tenant check is
      -- written "is true" so the planner cannot prefer a (ws, segment) index scan that filters ctids one array at a time.
      delete from segment_members m
       where m.ctid = any(array(select d.tid from ${name('diff')} d where not d.entering))
         and (m.workspace_id = ${ws} and m.segment_id = ${seg}) is true
      returning m.user_id
    ), ${name('log')} as (
      insert into membership_log (workspace_id, segment_id, user_id, change, cause, at)
      select ${ws}, ${seg}, user_id, 'entered', ${d.cause}, ${at} from ${name('ins')}
      union all
      select ${ws}, ${seg}, user_id, 'exited', ${d.cause}, ${at} from ${name('del')}
      returning id, segment_id, user_id, change, at
    )`;
}

/** Writes only the difference between the current members (in scope) and the target, and logs it. Returns counts. */
export async function applyDiffCounts(db: Db, d: DiffSpec): Promise<{ entered: number; exited: number }> {
  const [r] = await raw<{ entered: number; exited: number }>(db, sql`with ${diffCtes(d)}
    select count(*) filter (where change = 'entered') as entered, count(*) filter (where change = 'exited') as exited from log_0`);
  return { entered: Number(r.entered), exited: Number(r.exited) };
}

/** Same diff, returning each logged change (static list replacement). */
export async function applyDiffRows(db: Db, d: DiffSpec): Promise<MembershipChange[]> {
  return raw<MembershipChange>(db, sql`with ${diffCtes(d)} select id, segment_id, user_id, change, at from log_0`);
}

export interface LevelSpec {
  workspaceId: string;
  /** Segment ids and their predicates over `users u`, compiled per user (`perUser`). */
  segments: { id: string; predicate: Frag }[];
  /** (index into segments, user id) pairs to re-check; each pair at most once. */
  pairs: { k: number; userId: string }[];
  cause: Cause;
  at: Date;
}

/**
 * Incremental diff of many segments for a batch of users in one statement: each (segment, user) pair to re-check is
 * tested with that segment's predicate on the user's row (a CASE on the segment index, so a pair only evaluates its own
 * segment's conditions, each subquery an index probe of that user), compared with the user's current memberships of
 * those segments (one probe of segment_members by user), and only the differences are written and logged.
 */
export async function applyLevel(db: Db, l: LevelSpec): Promise<MembershipChange[]> {
  if (!l.pairs.length) return [];
  const ws = sql`${l.workspaceId}::uuid`;
  const at = sql`${l.at.toISOString()}::timestamptz`;
  const cases = join(l.segments.map((s, k) => sql`when ${new Frag(String(k), [])} then ${s.predicate}`), ' ');
  const users = [...new Set(l.pairs.map((p) => p.userId))];
  return raw<MembershipChange>(db, sql`with b as materialized (
      select b.k, b.user_id from unnest(${l.pairs.map((p) => p.k)}::int[], ${l.pairs.map((p) => p.userId)}::text[]) as b(k, user_id)
    ), s as materialized (
      select (s.n - 1)::int as k, s.id from unnest(${l.segments.map((x) => x.id)}::uuid[]) with ordinality as s(id, n)
    ), target as materialized (
      -- Each user by primary key (a unique probe whatever the statistics say: offset 0 keeps the subquery a per-row
      -- probe), then each pair's own predicate.
      select b.k, b.user_id
        from unnest(${users}::text[]) as x(user_id)
        cross join lateral (select * from users u where u.workspace_id = ${ws} and u.user_id = x.user_id offset 0) u
        join b on b.user_id = u.user_id
       where case b.k ${cases} else false end
    ), cur as materialized (
      -- The pairs' current memberships, one primary-key probe per pair.
      select b.k, b.user_id, m.tid
        from b join s on s.k = b.k
        cross join lateral (select m.ctid as tid from segment_members m
                             where m.workspace_id = ${ws} and m.segment_id = s.id and m.user_id = b.user_id offset 0) m
    ), diff as materialized (
      select coalesce(t.k, c.k) as k, coalesce(t.user_id, c.user_id) as user_id, t.user_id is not null as entering, c.tid
        from target t full join cur c on c.k = t.k and c.user_id = t.user_id
       where t.user_id is null or c.user_id is null
    ), ins as (
      insert into segment_members (workspace_id, segment_id, user_id, entered_at)
      select ${ws}, s.id, d.user_id, ${at} from diff d join s on s.k = d.k where d.entering
      on conflict do nothing
      returning segment_id, user_id
    ), del as (
      -- By the ctids read in cur (same snapshot): a TID scan; the tenant check cannot turn it into an index scan.
      delete from segment_members m
       where m.ctid = any(array(select d.tid from diff d where not d.entering))
         and (m.workspace_id = ${ws}) is true
      returning m.segment_id, m.user_id
    ), log as (
      insert into membership_log (workspace_id, segment_id, user_id, change, cause, at)
      select ${ws}, segment_id, user_id, 'entered', ${l.cause}, ${at} from ins
      union all
      select ${ws}, segment_id, user_id, 'exited', ${l.cause}, ${at} from del
      returning id, segment_id, user_id, change, at
    ) select id, segment_id, user_id, change, at from log`);
}

/** Adds the users of `source` (a `select user_id` over known users) to a static list. */
export async function addMembers(db: Db, workspaceId: string, segmentId: string, source: Frag, cause: Cause, at: Date): Promise<MembershipChange[]> {
  return raw(db, sql`with ins as (
      insert into segment_members (workspace_id, segment_id, user_id, entered_at)
      select distinct ${workspaceId}::uuid, ${segmentId}::uuid, s.user_id, ${at.toISOString()}::timestamptz from (${source}) s
      on conflict do nothing returning user_id
    ) insert into membership_log (workspace_id, segment_id, user_id, change, cause, at)
      select ${workspaceId}::uuid, ${segmentId}::uuid, user_id, 'entered', ${cause}, ${at.toISOString()}::timestamptz from ins
      returning id, segment_id, user_id, change, at`);
}

/** Removes the members that `source` (a `select user_id`) names. */
export async function removeMembers(db: Db, workspaceId: string, segmentId: string, source: Frag, cause: Cause, at: Date): Promise<MembershipChange[]> {
  return raw(db, sql`with del as (
      delete from segment_members m where m.workspace_id = ${workspaceId}::uuid and m.segment_id = ${segmentId}::uuid
         and m.user_id in (${source}) returning m.user_id
    ) insert into membership_log (workspace_id, segment_id, user_id, change, cause, at)
      select ${workspaceId}::uuid, ${segmentId}::uuid, user_id, 'exited', ${cause}, ${at.toISOString()}::timestamptz from del
      returning id, segment_id, user_id, change, at`);
}

/** Which of the given ids are known users (the rest are reported back, never created). */
export async function knownUserIds(db: Db, workspaceId: string, ids: string[]): Promise<Set<string>> {
  const rows = await raw<{ user_id: string }>(db, sql`select user_id from users where workspace_id = ${workspaceId}::uuid and user_id = any(${ids}::text[])`);
  return new Set(rows.map((r) => r.user_id));
}

/** User ids by email trait (case-insensitive). */
export async function userIdsByEmail(db: Db, workspaceId: string, emails: string[]): Promise<{ email: string; user_id: string }[]> {
  return raw(db, sql`select lower(u.traits ->> 'email') as email, u.user_id from users u
     where u.workspace_id = ${workspaceId}::uuid and lower(u.traits ->> 'email') = any(${emails.map((e) => e.toLowerCase())}::text[])`);
}

export const knownUsersIn = (workspaceId: string, ids: string[]) =>
  sql`select user_id from users where workspace_id = ${workspaceId}::uuid and user_id = any(${ids}::text[])`;
export const membersOf = (workspaceId: string, segmentId: string) =>
  sql`select user_id from segment_members where workspace_id = ${workspaceId}::uuid and segment_id = ${segmentId}::uuid`;
export const allUsersOf = (workspaceId: string) => sql`select user_id from users where workspace_id = ${workspaceId}::uuid`;

/** Segments whose schedule may be due (active, dynamic, with a schedule), across workspaces. */
export async function scheduledSegments(db: Db): Promise<SegmentRow[]> {
  return raw(db, sql`select * from segments where status = 'active' and type = 'dynamic' and schedule is not null`);
}
