import type { Knex } from 'knex';
import type { Db } from '../db/types.js';
import { HttpError, notFound } from '../http/errors.js';
import { isUuid } from '../http/auth.js';
import type { SortKey, UserListQuery } from './directory-schema.js';
import type { UserCoreRow } from './queries.js';

/**
 * The users directory: one keyset-paged, filtered list of a workspace's users.
 *
 * Paging is by (sort value, user_id) in the sort's direction, so a user whose row did not change between two
 * requests is returned exactly once. The first page pins `asOf` (the database time of that query) in the cursor;
 * later pages only show users created up to then, so users arriving meanwhile neither push rows across pages
 * nor appear half-way through. A user updated between pages is read with its new values: see docs/users.md.
 */

const SORT_COLUMNS: Record<SortKey, { column: string; nullable: boolean }> = {
  lastSeenAt: { column: 'last_seen_at', nullable: false },
  firstSeenAt: { column: 'first_seen_at', nullable: false },
  lastSurveyResponseAt: { column: 'last_survey_response_at', nullable: true },
};

/** Up to this many matching users the total is counted exactly; above, it is the planner's estimate. */
export const EXACT_TOTAL_LIMIT = 10_000;

interface Cursor { s: SortKey; o: 'asc' | 'desc'; v: string | null; id: string; a: string }

const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2}){0,2}|Z)?$/;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(raw: string, sort: SortKey, order: 'asc' | 'desc'): Cursor {
  const bad = (why: string) => new HttpError(400, 'invalid_cursor', `Invalid cursor: ${why}`);
  let c: Partial<Cursor>;
  try {
    c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor from this API');
  }
  if (typeof c !== 'object' || c === null || typeof c.id !== 'string' || typeof c.a !== 'string' || !PG_TIMESTAMP.test(c.a)) throw bad('not a cursor from this API');
  if (c.v !== null && (typeof c.v !== 'string' || !PG_TIMESTAMP.test(c.v))) throw bad('not a cursor from this API');
  if (c.s !== sort || c.o !== order) throw bad('it was made for another sort or order; start again without a cursor');
  return c as Cursor;
}

/** `abc` → a LIKE prefix pattern matching text that starts with `abc` (wildcards in the input are literal). */
const likePrefix = (q: string) => `${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

interface Filter { sql: string; bindings: Knex.RawBinding[] }

export interface ResolvedFilters {
  workspaceId: string;
  q?: string;
  memberOf?: string;
  seenSince?: Date;
  respondedSince?: Date;
  asOf?: string;
}

/** The WHERE clause shared by the page and the total. Only parameters reach SQL, never the input's text. */
export function whereOf(f: ResolvedFilters): Filter {
  const parts = ['u.workspace_id = ?'];
  const bindings: Knex.RawBinding[] = [f.workspaceId];
  if (f.asOf) {
    parts.push('u.created_at <= ?::timestamptz');
    bindings.push(f.asOf);
  }
  if (f.q) {
    // Each alternative matches one prefix index; the planner ORs their bitmaps.
    parts.push(`(lower(u.user_id) like lower(?) or lower(u.traits ->> 'email') like lower(?)
      or lower(ag_user_name(u.traits)) like lower(?) or lower(ag_user_surname(u.traits)) like lower(?))`);
    const p = likePrefix(f.q);
    bindings.push(p, p, p, p);
  }
  if (f.memberOf) {
    parts.push('exists (select 1 from segment_members sm where sm.workspace_id = u.workspace_id and sm.segment_id = ? and sm.user_id = u.user_id)');
    bindings.push(f.memberOf);
  }
  if (f.seenSince) {
    parts.push('u.last_seen_at >= ?');
    bindings.push(f.seenSince);
  }
  if (f.respondedSince) {
    parts.push('u.last_survey_response_at >= ?');
    bindings.push(f.respondedSince);
  }
  return { sql: parts.join(' and '), bindings };
}

const USER_COLUMNS = `u.user_id, u.traits, u.traits ->> 'email' as email, ag_user_name(u.traits) as name,
  u.first_seen_at, u.last_seen_at, u.last_survey_response_at`;

/**
 * The page's rows: non-null sort values in order, then (for a nullable sort) users without a value by user_id,
 * each branch a bounded index scan.
 */
export function pageQuery(f: ResolvedFilters, sort: SortKey, order: 'asc' | 'desc', cursor: Cursor | undefined, take: number): Filter {
  const { column, nullable } = SORT_COLUMNS[sort];
  const cmp = order === 'desc' ? '<' : '>';
  const where = whereOf(f);
  const branches: string[] = [];
  const bindings: Knex.RawBinding[] = [];
  if (!cursor || cursor.v !== null) {
    const after = cursor ? ` and (u.${column}, u.user_id) ${cmp} (?::timestamptz, ?)` : '';
    branches.push(`(select ${USER_COLUMNS} from users u where ${where.sql} and u.${column} is not null${after}
                    order by u.${column} ${order}, u.user_id ${order} limit ${take})`);
    bindings.push(...where.bindings, ...(cursor ? [cursor.v, cursor.id] : []));
  }
  // Users without a value come last in both orders; none can pass a "responded within" filter.
  if (nullable && !(sort === 'lastSurveyResponseAt' && f.respondedSince)) {
    const after = cursor?.v === null ? ` and u.user_id ${cmp} ?` : '';
    branches.push(`(select ${USER_COLUMNS} from users u where ${where.sql} and u.${column} is null${after}
                    order by u.user_id ${order} limit ${take})`);
    bindings.push(...where.bindings, ...(cursor?.v === null ? [cursor.id] : []));
  }
  const sql = `
    with page as (${branches.join(' union all ')}),
    everyone as (
      select coalesce(array_agg(id::text order by created_at, id), '{}') as ids from segments
       where workspace_id = ? and type = 'everyone' and status in ('active', 'paused')
    )
    select p.*, p.${column}::text as sort_value, statement_timestamp()::text as as_of,
           array(select sm.segment_id::text from segment_members sm
                   join segments s on s.workspace_id = sm.workspace_id and s.id = sm.segment_id
                  where sm.workspace_id = ? and sm.user_id = p.user_id and s.status <> 'archived' and s.type <> 'everyone'
                  order by sm.entered_at, sm.segment_id) || (select ids from everyone) as segment_ids
      from page p
     order by p.${column} ${order} nulls last, p.user_id ${order}
     limit ${take}`;
  bindings.push(f.workspaceId, f.workspaceId);
  return { sql, bindings };
}

export interface DirectoryRow extends UserCoreRow {
  segment_ids: string[];
}

export interface DirectoryPage {
  users: DirectoryRow[];
  nextCursor: string | null;
  total: number;
  totalIsEstimate: boolean;
}

/**
 * The total: when the planner expects more than EXACT_TOTAL_LIMIT rows for the WHERE, its estimate (one EXPLAIN,
 * no scan); otherwise a count bounded at EXACT_TOTAL_LIMIT + 1 rows, exact when it stays within the limit.
 */
async function countUsers(db: Db, f: ResolvedFilters): Promise<{ total: number; estimate: boolean }> {
  const where = whereOf(f);
  const plan = await db.raw(`explain (format json) select 1 from users u where ${where.sql}`, where.bindings);
  const estimated = Math.round(Number(plan.rows[0]['QUERY PLAN'][0].Plan['Plan Rows']));
  if (estimated > EXACT_TOTAL_LIMIT) return { total: estimated, estimate: true };
  const { rows } = await db.raw(
    `select count(*)::int as n from (select 1 from users u where ${where.sql} limit ${EXACT_TOTAL_LIMIT + 1}) t`,
    where.bindings,
  );
  const n = rows[0].n as number;
  if (n <= EXACT_TOTAL_LIMIT) return { total: n, estimate: false };
  return { total: Math.max(estimated, EXACT_TOTAL_LIMIT + 1), estimate: true };
}

async function segmentFilter(db: Db, workspaceId: string, segmentId: string): Promise<string | undefined> {
  const segment = isUuid(segmentId) ? await db('segments').where({ workspace_id: workspaceId, id: segmentId }).first('id', 'type') : undefined;
  if (!segment) throw notFound('Segment');
  return segment.type === 'everyone' ? undefined : segment.id;
}

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000);

/** One page of the directory, with its total. `now` is the clock for the "within days" windows. */
export async function listUsers(db: Db, workspaceId: string, query: UserListQuery, now: Date): Promise<DirectoryPage> {
  const cursor = query.cursor ? decodeCursor(query.cursor, query.sort, query.order) : undefined;
  const q = query.q?.trim().replace(/\s+/g, ' ');
  const filters: ResolvedFilters = {
    workspaceId,
    q: q || undefined,
    memberOf: query.segmentId ? await segmentFilter(db, workspaceId, query.segmentId) : undefined,
    seenSince: query.seenWithinDays ? daysBefore(now, query.seenWithinDays) : undefined,
    respondedSince: query.respondedWithinDays ? daysBefore(now, query.respondedWithinDays) : undefined,
    asOf: cursor?.a,
  };
  const page = pageQuery(filters, query.sort, query.order, cursor, query.limit + 1);
  const [{ rows }, count] = await Promise.all([db.raw(page.sql, page.bindings), countUsers(db, filters)]);
  const more = rows.length > query.limit;
  const users = (more ? rows.slice(0, query.limit) : rows) as (DirectoryRow & { sort_value: string | null; as_of: string })[];
  const last = users[users.length - 1];
  const nextCursor = more && last
    ? encodeCursor({ s: query.sort, o: query.order, v: last.sort_value, id: last.user_id, a: cursor?.a ?? last.as_of })
    : null;
  return { users, nextCursor, total: count.total, totalIsEstimate: count.estimate };
}
