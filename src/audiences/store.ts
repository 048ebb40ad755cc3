import type { Knex } from 'knex';
import type { Db } from '../db/types.js';
import { COUNTING, type AudienceDef, type SegmentState } from './eligibility.js';

export interface AudienceRow {
  id: string;
  name: string;
  include: string[];
  match: 'any' | 'all';
  exclude: string[];
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = ['id', 'name', 'include', 'match', 'exclude', 'created_at', 'updated_at'];

export async function audienceExists(db: Db, workspaceId: string, id: string): Promise<boolean> {
  return Boolean(await db('audiences').select('id').where({ workspace_id: workspaceId, id }).first());
}

export async function insertAudience(db: Db, workspaceId: string, a: { name: string; include: string[]; match: string; exclude: string[] }): Promise<AudienceRow> {
  const [row] = await db('audiences').insert({ workspace_id: workspaceId, ...a }).returning(COLUMNS);
  return row;
}

export async function getAudience(db: Db, workspaceId: string, id: string): Promise<AudienceRow | undefined> {
  return db('audiences').select(COLUMNS).where({ workspace_id: workspaceId, id }).first();
}

export async function listAudiences(db: Db, workspaceId: string): Promise<AudienceRow[]> {
  return db('audiences').select(COLUMNS).where({ workspace_id: workspaceId }).orderBy('created_at').orderBy('id');
}

export async function updateAudience(db: Db, workspaceId: string, id: string, patch: Partial<Pick<AudienceRow, 'name' | 'include' | 'match' | 'exclude'>>): Promise<AudienceRow | undefined> {
  const [row] = await db('audiences').where({ workspace_id: workspaceId, id }).update({ ...patch, updated_at: db.fn.now() }).returning(COLUMNS);
  return row;
}

export async function segmentStates(db: Db, workspaceId: string, ids: string[]): Promise<Map<string, SegmentState>> {
  if (!ids.length) return new Map();
  const rows: SegmentState[] = await db('segments').select('id', 'name', 'type', 'status').where({ workspace_id: workspaceId }).whereIn('id', ids);
  return new Map(rows.map((r) => [r.id, r]));
}

export interface SingleCheckRows {
  audience: AudienceDef;
  segments: Map<string, SegmentState>;
  memberOf: Set<string>;
}

/**
 * One indexed round trip for a single check: the audience, the state of each segment it names and
 * whether the user is a member of each (primary-key probes on segment_members, or on users for an
 * `everyone` segment). Undefined when the audience is not in this workspace.
 */
const SINGLE_CHECK_SQL = `
  select a.id, a.name, a.match, a.include, a.exclude,
         s.id as segment_id, s.name as segment_name, s.type, s.status,
         case when s.id is null then false
              when s.type = 'everyone' then exists (select 1 from users u where u.workspace_id = a.workspace_id and u.user_id = $1)
              else exists (select 1 from segment_members m where m.workspace_id = a.workspace_id and m.segment_id = s.id and m.user_id = $1)
         end as member
    from audiences a
    left join segments s on s.workspace_id = a.workspace_id and s.id = any (a.include || a.exclude)
   where a.workspace_id = $2 and a.id = $3`;

/**
 * Runs a hot statement as a named prepared statement on a pooled connection (parsed and planned once
 * per connection instead of per call). Inside a transaction it goes through the transaction instead.
 */
async function prepared<T>(db: Db, name: string, text: string, values: unknown[]): Promise<T[]> {
  if ((db as Knex.Transaction).isTransaction) {
    return (await db.raw(text.replace(/\$\d+/g, '?'), reorder(text, values))).rows;
  }
  const client = db.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<unknown> };
  const conn = await client.acquireConnection();
  try {
    return (await conn.query({ name, text, values })).rows as T[];
  } finally {
    await client.releaseConnection(conn);
  }
}
interface PgConnection { query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }> }

/** $n placeholders → the value list knex's `?` placeholders expect (in order of appearance). */
function reorder(text: string, values: unknown[]): Knex.RawBinding[] {
  return [...text.matchAll(/\$(\d+)/g)].map((m) => values[Number(m[1]) - 1] as Knex.RawBinding);
}

/**
 * One indexed round trip for a single check: the audience, the state of each segment it names and
 * whether the user is a member of each (primary-key probes on segment_members, or on users for an
 * `everyone` segment). Undefined when the audience is not in this workspace.
 */
export async function loadSingleCheck(db: Db, workspaceId: string, audienceId: string, userId: string): Promise<SingleCheckRows | undefined> {
  const rows = await prepared<{ id: string; name: string; match: 'any' | 'all'; include: string[]; exclude: string[]; segment_id: string | null; segment_name: string; type: string; status: string; member: boolean }>(
    db, 'ag_audience_check', SINGLE_CHECK_SQL, [userId, workspaceId, audienceId],
  );
  if (!rows.length) return undefined;
  const r0 = rows[0];
  const segments = new Map<string, SegmentState>();
  const memberOf = new Set<string>();
  for (const r of rows) {
    if (!r.segment_id) continue;
    segments.set(r.segment_id, { id: r.segment_id, name: r.segment_name, type: r.type, status: r.status });
    if (r.member) memberOf.add(r.segment_id);
  }
  return { audience: { id: r0.id, name: r0.name, match: r0.match, include: r0.include, exclude: r0.exclude }, segments, memberOf };
}

/**
 * A user's memberships among a list of segments: bit i of `mask` stands for listed[i]. A list longer than
 * MASK_SEGMENTS (an audience naming more than 31 segments besides `everyone` ones) comes back as `ids`.
 * A bit mask is an int4 for PostgreSQL to build (bit_or) and for node to parse; the array_agg of ids it
 * replaces cost PostgreSQL a memory context per user and node an array parse per row.
 */
export interface ListedMembership { known: boolean; mask: number; ids: string[] | null }
export const MASK_SEGMENTS = 31;

const MASK_OF = (user: string) => `coalesce((select bit_or(1 << (array_position($2::uuid[], m.segment_id) - 1)) from segment_members m
                       where m.workspace_id = $1 and m.user_id = ${user} and m.segment_id = any ($2::uuid[])), 0)`;
const IDS_OF = (user: string) => `array(select m.segment_id::text from segment_members m
                       where m.workspace_id = $1 and m.user_id = ${user} and m.segment_id = any ($2::uuid[]))`;

/**
 * Membership of one user in the listed segments (plus whether the user is known, for `everyone`
 * segments), when the audience definition is already in hand: one row from an index-only scan of the
 * user's memberships (and a users primary-key probe only for `everyone`).
 */
export async function memberOfListed(db: Db, workspaceId: string, userId: string, segmentIds: string[], withKnown: boolean): Promise<ListedMembership> {
  const masked = segmentIds.length <= MASK_SEGMENTS;
  const [row] = await prepared<{ known: boolean; mask: number | null; ids: string[] | null }>(
    db, masked ? 'ag_audience_member_mask' : 'ag_audience_member_ids',
    `select ${masked ? MASK_OF('$3') : IDS_OF('$3')} as ${masked ? 'mask' : 'ids'},
            case when $4::boolean then exists (select 1 from users u where u.workspace_id = $1 and u.user_id = $3) else false end as known`,
    [workspaceId, segmentIds, userId, withKnown],
  );
  return { known: row.known, mask: row.mask ?? 0, ids: row.ids ?? null };
}

/**
 * Memberships of many users in one statement: for each given user, whether it is a known user and
 * which of the listed (non-everyone) segments it belongs to.
 */
export async function membershipsOf(db: Db, workspaceId: string, userIds: string[], segmentIds: string[], opts: { known: boolean }): Promise<Map<string, ListedMembership>> {
  const masked = segmentIds.length <= MASK_SEGMENTS;
  // Scalar subqueries (not EXISTS, not a join) keep the planner on per-user index probes instead of hashing or
  // scanning a whole table; the ids are sorted so the probes walk the index in order.
  const known = opts.known ? `coalesce((select true from users u where u.workspace_id = $1 and u.user_id = k.user_id), false)` : 'false';
  const rows = await prepared<{ user_id: string; known: boolean; mask: number | null; ids: string[] | null }>(
    db, `ag_audience_batch_${opts.known ? 'k' : 'm'}_${masked ? 'mask' : 'ids'}`,
    `select k.user_id, ${known} as known, ${masked ? MASK_OF('k.user_id') : IDS_OF('k.user_id')} as ${masked ? 'mask' : 'ids'}
       from (select distinct unnest($3::text[]) as user_id order by 1) k`,
    [workspaceId, segmentIds, userIds],
  );
  const out = new Map<string, ListedMembership>();
  for (const r of rows) out.set(r.user_id, { known: r.known, mask: r.mask ?? 0, ids: r.ids ?? null });
  return out;
}

/**
 * The audience as one SQL predicate over `users u` (set-based members and size). Null when the
 * audience can match nobody (an "all" audience naming a segment that does not count, or an excluded
 * `everyone` segment).
 */
export function audiencePredicate(def: AudienceDef, segments: Map<string, SegmentState>): { sql: string; params: Knex.RawBinding[] } | null {
  const counting = (id: string) => {
    const s = segments.get(id);
    return s && COUNTING.has(s.status) ? s : undefined;
  };
  const memberOfAny = (ids: string[]) => ({
    sql: `exists (select 1 from segment_members m where m.workspace_id = u.workspace_id and m.user_id = u.user_id and m.segment_id = any (?::uuid[]))`,
    params: [ids] as Knex.RawBinding[],
  });
  const parts: { sql: string; params: Knex.RawBinding[] }[] = [];
  const inc = def.include.map(counting);
  const incListed = inc.filter((s): s is SegmentState => !!s && s.type !== 'everyone').map((s) => s.id);
  if (def.include.length && def.match === 'any') {
    if (!inc.some((s) => s?.type === 'everyone')) {
      if (!incListed.length) return null;
      parts.push(memberOfAny(incListed));
    }
  } else if (def.include.length) {
    if (inc.some((s) => !s)) return null;
    if (incListed.length) {
      parts.push({
        sql: `(select count(*) from segment_members m where m.workspace_id = u.workspace_id and m.user_id = u.user_id and m.segment_id = any (?::uuid[])) = ?`,
        params: [incListed, incListed.length],
      });
    }
  }
  const exc = def.exclude.map(counting).filter((s): s is SegmentState => !!s);
  if (exc.some((s) => s.type === 'everyone')) return null;
  if (exc.length) {
    const m = memberOfAny(exc.map((s) => s.id));
    parts.push({ sql: `not ${m.sql}`, params: m.params });
  }
  return { sql: parts.map((p) => p.sql).join(' and ') || 'true', params: parts.flatMap((p) => p.params) };
}

export async function audienceMembers(db: Db, workspaceId: string, predicate: { sql: string; params: Knex.RawBinding[] }, page: { limit: number; after?: string }): Promise<string[]> {
  const { rows } = await db.raw(
    `select u.user_id from users u
      where u.workspace_id = ? ${page.after !== undefined ? 'and u.user_id > ?' : ''} and ${predicate.sql}
      order by u.user_id limit ?`,
    [workspaceId, ...(page.after !== undefined ? [page.after] : []), ...predicate.params, page.limit],
  );
  return (rows as { user_id: string }[]).map((r) => r.user_id);
}

export async function audienceSize(db: Db, workspaceId: string, predicate: { sql: string; params: Knex.RawBinding[] }): Promise<number> {
  const { rows } = await db.raw(`select count(*)::int as n from users u where u.workspace_id = ? and ${predicate.sql}`, [workspaceId, ...predicate.params]);
  return rows[0].n;
}
