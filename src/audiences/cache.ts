import type { AudienceDef, SegmentState } from './eligibility.js';

/**
 * A short-lived, per-process copy of each audience's definition and the type/status of its segments,
 * so a hot single check is one index scan of segment_members. Memberships are never cached.
 * Audience edits in this process forget the entry at once; other changes (segment status, edits
 * in another process) are picked up within TTL_MS.
 */
export const AUDIENCE_TTL_MS = 1_000;
const entries = new Map<string, { def: AudienceDef; segments: Map<string, SegmentState>; until: number }>();

const key = (workspaceId: string, audienceId: string) => `${workspaceId}:${audienceId}`;

export function cachedAudience(workspaceId: string, audienceId: string, now = Date.now()) {
  const hit = entries.get(key(workspaceId, audienceId));
  return hit && hit.until >= now ? hit : undefined;
}

export function rememberAudience(workspaceId: string, def: AudienceDef, segments: Map<string, SegmentState>, now = Date.now()) {
  if (entries.size > 10_000) entries.clear(); // bounded: a rebuild costs one query per audience
  entries.set(key(workspaceId, def.id), { def, segments, until: now + AUDIENCE_TTL_MS });
}

/** Forget one audience (after an edit here), a workspace's, or everything (tests that edit rows directly). */
export function forgetAudiences(workspaceId?: string, audienceId?: string) {
  if (!workspaceId) return entries.clear();
  if (audienceId) return void entries.delete(key(workspaceId, audienceId));
  for (const k of entries.keys()) if (k.startsWith(`${workspaceId}:`)) entries.delete(k);
}
