import type { Knex } from 'knex';
import type { Db } from '../db/types.js';
import { HttpError, notFound } from '../http/errors.js';
import { isUuid } from '../http/auth.js';
import type { Eligibility, AudienceDef } from './eligibility.js';
import type { CreateAudience, UpdateAudience, MembersQuery } from './schema.js';
import * as store from './store.js';
import { cachedAudience, cacheGeneration, rememberAudience, forgetAudiences, type CachedAudience } from './cache.js';
import { membershipOf } from './batcher.js';

export async function requireAudience(db: Db, workspaceId: string, id: string) {
  const row = isUuid(id) ? await store.getAudience(db, workspaceId, id) : undefined;
  if (!row) throw notFound('Audience');
  return row;
}

/**
 * Every named segment must exist in this workspace. A segment that is not in the audience yet
 * cannot be added while archived; drafts may be (they start counting once activated).
 */
async function checkSegments(db: Db, workspaceId: string, lists: { include: string[]; exclude: string[] }, already: Set<string>) {
  const ids = [...lists.include, ...lists.exclude].filter((id) => !already.has(id));
  const states = await store.segmentStates(db, workspaceId, ids);
  const issues: { path: string; message: string }[] = [];
  for (const key of ['include', 'exclude'] as const) {
    lists[key].forEach((id, i) => {
      if (already.has(id)) return; // kept as it was (it may have been archived since; it just does not count)
      const s = states.get(id);
      if (!s) issues.push({ path: `${key}.${i}`, message: `no segment ${id} in this workspace` });
      else if (s.status === 'archived') issues.push({ path: `${key}.${i}`, message: `segment ${id} is archived and cannot be added to an audience` });
    });
  }
  if (issues.length) throw new HttpError(400, 'invalid', `Invalid body: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}

export async function createAudience(db: Db, workspaceId: string, input: CreateAudience) {
  await checkSegments(db, workspaceId, input, new Set());
  return store.insertAudience(db, workspaceId, input);
}

export async function updateAudience(db: Db, workspaceId: string, id: string, patch: UpdateAudience) {
  const current = await requireAudience(db, workspaceId, id);
  const next = { include: patch.include ?? current.include, exclude: patch.exclude ?? current.exclude };
  if (next.include.some((s) => next.exclude.includes(s))) {
    throw new HttpError(400, 'invalid', 'Invalid body: exclude: a segment cannot be both included and excluded', [{ path: 'exclude', message: 'a segment cannot be both included and excluded' }]);
  }
  await checkSegments(db, workspaceId, next, new Set([...current.include, ...current.exclude]));
  const row = await store.updateAudience(db, workspaceId, id, {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.match !== undefined ? { match: patch.match } : {}),
    ...(patch.include !== undefined ? { include: patch.include } : {}),
    ...(patch.exclude !== undefined ? { exclude: patch.exclude } : {}),
  });
  if (!row) throw notFound('Audience');
  forgetAudiences(workspaceId, id);
  return row;
}

export const listAudiences = store.listAudiences;

/**
 * Is this user in the audience now? One indexed query: with the definition cached, an index scan of
 * the user's memberships in the named segments (concurrent checks of the same audience share one
 * statement, see batcher.ts); otherwise one query that also reads the definition and segment states
 * (and refreshes the cache). Reasons name each segment's part. The answer is frozen and may be shared
 * with other checks of the same audience (see Decider).
 */
export async function checkUser(db: Db, workspaceId: string, audienceId: string, userId: string): Promise<Eligibility> {
  let cached = cachedAudience(workspaceId, audienceId);
  if (!cached) {
    const inFlight = loading.get(`${workspaceId}:${audienceId}`);
    if (inFlight?.readAt === cacheGeneration()) cached = await inFlight.entry; // not one read before an edit here
  }
  if (cached) return cached.decider.decide(memberTest(cached, await membershipOf(db, workspaceId, cached, userId)));
  if (!isUuid(audienceId)) throw notFound('Audience');
  const readAt = cacheGeneration();
  const load = store.loadSingleCheck(db, workspaceId, audienceId, userId)
    .then((loaded) => loaded && { loaded, entry: rememberAudience(workspaceId, loaded.audience, loaded.segments, readAt) });
  if (!(db as Knex.Transaction).isTransaction) {
    // Checks that miss the cache while this read is in flight wait for it rather than each reading the
    // definition (every second, when the entry expires under load, that was one statement per waiting check).
    const key = `${workspaceId}:${audienceId}`;
    const shared = { readAt, entry: load.then((l) => l?.entry, () => undefined) };
    loading.set(key, shared);
    void shared.entry.then(() => { if (loading.get(key) === shared) loading.delete(key); });
  }
  const done = await load;
  if (!done) throw notFound('Audience');
  return done.entry.decider.decide((id) => done.loaded.memberOf.has(id));
}

/** Definition reads in flight (not in transactions), by workspace and audience, with the cache generation they started in. */
const loading = new Map<string, { readAt: number; entry: Promise<CachedAudience | undefined> }>();

/** Is the user in this segment of the audience? `everyone` segments: is the user known. */
function memberTest(audience: CachedAudience, m: store.ListedMembership) {
  return (segmentId: string) => {
    const i = audience.position.get(segmentId);
    if (i === undefined) return m.known; // not listed: an everyone segment (segments that do not count are never asked)
    return m.ids ? m.ids.includes(segmentId) : (m.mask & (1 << i)) !== 0;
  };
}

/** The audience definition and its segments' states: from the short-lived cache, or read and cached. */
async function definitionOf(db: Db, workspaceId: string, audienceId: string) {
  const cached = cachedAudience(workspaceId, audienceId);
  if (cached) return cached;
  const readAt = cacheGeneration();
  const audience = await requireAudience(db, workspaceId, audienceId);
  const def: AudienceDef = { id: audience.id, name: audience.name, include: audience.include, match: audience.match, exclude: audience.exclude };
  return rememberAudience(workspaceId, def, await store.segmentStates(db, workspaceId, [...def.include, ...def.exclude]), readAt);
}

/** Many users at once: the definition (usually cached), then one set-based membership query for all of them. */
export async function checkUsers(db: Db, workspaceId: string, audienceId: string, userIds: string[]) {
  const audience = await definitionOf(db, workspaceId, audienceId);
  const memberships = await store.membershipsOf(db, workspaceId, userIds, audience.listed, { known: audience.withKnown });
  const unknown: store.ListedMembership = { known: false, mask: 0, ids: null };
  return userIds.map((userId) => {
    const { eligible, reasons } = audience.decider.decide(memberTest(audience, memberships.get(userId) ?? unknown));
    return { userId, eligible, reasons };
  });
}

async function predicateFor(db: Db, workspaceId: string, audienceId: string) {
  const audience = await requireAudience(db, workspaceId, audienceId);
  const segments = await store.segmentStates(db, workspaceId, [...audience.include, ...audience.exclude]);
  return { audience, predicate: store.audiencePredicate(audience, segments) };
}

/** Current members (known users), ordered by user id and paged by the last id seen. */
export async function audienceMembers(db: Db, workspaceId: string, audienceId: string, q: MembersQuery) {
  const { predicate } = await predicateFor(db, workspaceId, audienceId);
  let after: string | undefined;
  if (q.cursor !== undefined) {
    try { after = Buffer.from(q.cursor, 'base64url').toString('utf8'); } catch { after = undefined; }
    if (!after) throw new HttpError(400, 'invalid', 'Invalid query: cursor: not a cursor from a previous page', [{ path: 'cursor', message: 'not a cursor from a previous page' }]);
  }
  const ids = predicate ? await store.audienceMembers(db, workspaceId, predicate, { limit: q.limit + 1, after }) : [];
  const members = ids.slice(0, q.limit);
  return { members, nextCursor: ids.length > q.limit ? Buffer.from(members[members.length - 1]).toString('base64url') : null };
}

export async function audienceWithSize(db: Db, workspaceId: string, audienceId: string) {
  const { audience, predicate } = await predicateFor(db, workspaceId, audienceId);
  return { audience, size: predicate ? await store.audienceSize(db, workspaceId, predicate) : 0 };
}
