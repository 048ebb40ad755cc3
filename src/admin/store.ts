import type { Db } from '../db/types.js';

// SQL for the admin page: sessions, and the small read-only views the page needs (recent events, name suggestions,
// a segment's recent entries/exits and size history).

export interface SessionRow {
  id_hash: Buffer;
  csrf_token: string;
  expires_at: Date;
}

export async function insertSession(db: Db, s: { idHash: Buffer; csrfToken: string; expiresAt: Date; userAgent?: string }) {
  await db('admin_sessions').insert({ id_hash: s.idHash, csrf_token: s.csrfToken, expires_at: s.expiresAt, user_agent: s.userAgent?.slice(0, 300) ?? null });
}

export async function findSession(db: Db, idHash: Buffer, now: Date): Promise<SessionRow | undefined> {
  return db('admin_sessions').select('id_hash', 'csrf_token', 'expires_at').where({ id_hash: idHash }).andWhere('expires_at', '>', now).first();
}

export async function deleteSession(db: Db, idHash: Buffer) {
  await db('admin_sessions').where({ id_hash: idHash }).delete();
}

export async function purgeExpiredSessions(db: Db, now: Date) {
  await db('admin_sessions').where('expires_at', '<=', now).delete();
}

export interface RecentEventRow {
  id: string;
  type: string;
  message_id: string;
  user_id: string | null;
  anonymous_id: string | null;
  event: string | null;
  group_id: string | null;
  timestamp: Date;
  received_at: Date;
}

/**
 * The newest events of a workspace (the "events received" list), optionally only those newer than `afterId`.
 * Newest by id (the order they were stored, on the primary key): ingest keeps no index on received_at.
 */
export async function recentEvents(db: Db, workspaceId: string, limit: number, afterId?: string): Promise<RecentEventRow[]> {
  const q = db('events')
    .select('id', 'type', 'message_id', 'user_id', 'anonymous_id', 'event', 'group_id', 'timestamp', 'received_at')
    .where({ workspace_id: workspaceId })
    .orderBy('id', 'desc')
    .limit(limit);
  if (afterId) q.andWhere('id', '>', afterId);
  return q;
}

export async function countEvents(db: Db, workspaceId: string): Promise<number> {
  // An estimate is enough past a point; the exact count of a small workspace is cheap.
  const { rows } = await db.raw(`select count(*)::int as n from (select 1 from events where workspace_id = ? limit 100000) e`, [workspaceId]);
  return rows[0].n;
}

/**
 * Names seen in the workspace's data, for the segment builder's suggestions: event names (from the pre-aggregated
 * counters), user trait keys, account trait keys, and property keys of recent track events.
 */
export async function nameSuggestions(db: Db, workspaceId: string, limit = 200) {
  const [events, traits, accountTraits, properties] = await Promise.all([
    // count > 0 (always true) lets it read the partial event_counts_event_idx (migration 20261123910000).
    db.raw(
      `select event as name, sum(count)::bigint as n from event_counts where workspace_id = ? and count > 0 group by event order by n desc, event limit ?`,
      [workspaceId, limit],
    ),
    db.raw(
      `select k as name, count(*)::int as n from (select traits from users where workspace_id = ? order by last_seen_at desc limit 5000) u,
         lateral jsonb_object_keys(u.traits) k group by k order by n desc, k limit ?`,
      [workspaceId, limit],
    ),
    db.raw(
      `select k as name, count(*)::int as n from (select traits from accounts where workspace_id = ? order by updated_at desc limit 5000) a,
         lateral jsonb_object_keys(a.traits) k group by k order by n desc, k limit ?`,
      [workspaceId, limit],
    ),
    db.raw(
      `select k as name, count(*)::int as n from (
         select properties from events where workspace_id = ? and type = 'track' and jsonb_typeof(properties) = 'object'
         order by id desc limit 2000) e,
         lateral jsonb_object_keys(e.properties) k group by k order by n desc, k limit ?`,
      [workspaceId, limit],
    ),
  ]);
  const names = (r: { rows: { name: string }[] }) => r.rows.map((x) => x.name);
  return { events: names(events), traits: names(traits), accountTraits: names(accountTraits), properties: names(properties) };
}

export interface MembershipLogRow {
  id: string;
  user_id: string;
  change: 'entered' | 'exited';
  cause: string;
  at: Date;
}

export async function membershipLog(db: Db, workspaceId: string, segmentId: string, limit: number): Promise<MembershipLogRow[]> {
  return db('membership_log')
    .select('id', 'user_id', 'change', 'cause', 'at')
    .where({ workspace_id: workspaceId, segment_id: segmentId })
    .orderBy([{ column: 'at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(limit);
}

export interface SizeHistoryRow {
  at: Date;
  size: number;
  entered: number;
  exited: number;
  cause: string;
}

/** Size history of many segments at once (the list page draws one small chart per segment). */
export async function sizeHistory(db: Db, workspaceId: string, segmentIds: string[], perSegment: number) {
  const { rows } = await db.raw(
    `select segment_id, at, size, entered, exited, cause from (
       select h.*, row_number() over (partition by segment_id order by at desc) as rn
       from segment_size_history h where workspace_id = ? and segment_id = any(?::uuid[])
     ) x where rn <= ? order by segment_id, at`,
    [workspaceId, segmentIds, perSegment],
  );
  const out = new Map<string, SizeHistoryRow[]>();
  for (const r of rows as (SizeHistoryRow & { segment_id: string })[]) {
    const list = out.get(r.segment_id) ?? [];
    list.push({ at: r.at, size: r.size, entered: r.entered, exited: r.exited, cause: r.cause });
    out.set(r.segment_id, list);
  }
  return out;
}

/** Current sizes of many segments: member rows, or every user for an "everyone" segment. */
export async function segmentSizes(db: Db, workspaceId: string, segmentIds: string[]): Promise<Map<string, number>> {
  const { rows } = await db.raw(
    `select s.id, case when s.type = 'everyone' then (select count(*) from users u where u.workspace_id = s.workspace_id)
                       else (select count(*) from segment_members m where m.workspace_id = s.workspace_id and m.segment_id = s.id) end::int as size
     from segments s where s.workspace_id = ? and s.id = any(?::uuid[])`,
    [workspaceId, segmentIds],
  );
  return new Map((rows as { id: string; size: number }[]).map((r) => [r.id, r.size]));
}
