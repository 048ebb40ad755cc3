import { Decider, type AudienceDef, type SegmentState } from './eligibility.js';

/**
 * A short-lived, per-process copy of each audience's definition and the type/status of its segments,
 * so a hot single check is one index scan of segment_members. Memberships are never cached.
 * Audience edits in this process forget the entry at once; other changes (segment status, edits
 * in another process) are picked up within TTL_MS.
 */
export const AUDIENCE_TTL_MS = 1_000;

export interface CachedAudience {
  def: AudienceDef;
  segments: Map<string, SegmentState>;
  /** The non-`everyone` segments whose memberships a check reads, and whether it needs to know if the user exists. */
  listed: string[];
  withKnown: boolean;
  /** Index of each listed segment in `listed` (its bit in a membership mask). */
  position: Map<string, number>;
  /** Groups concurrent checks that read the same memberships (batcher.ts). */
  laneKey: string;
  decider: Decider;
  until: number;
}

const entries = new Map<string, CachedAudience>();
/** Bumped by every forget: a definition read before it is used for its own check but not cached. */
let generation = 0;
export const cacheGeneration = () => generation;

const key = (workspaceId: string, audienceId: string) => `${workspaceId}:${audienceId}`;

export function cachedAudience(workspaceId: string, audienceId: string, now = Date.now()): CachedAudience | undefined {
  const hit = entries.get(key(workspaceId, audienceId));
  return hit && hit.until >= now ? hit : undefined;
}

/** `readAt`: cacheGeneration() when the definition was read (an edit forgotten since then keeps it out of the cache). */
export function rememberAudience(workspaceId: string, def: AudienceDef, segments: Map<string, SegmentState>, readAt = generation, now = Date.now()): CachedAudience {
  if (entries.size > 10_000) entries.clear(); // bounded: a rebuild costs one query per audience
  const listed: string[] = [];
  let withKnown = false;
  for (const s of segments.values()) if (s.type === 'everyone') withKnown = true; else listed.push(s.id);
  const entry: CachedAudience = {
    def, segments, listed, withKnown,
    position: new Map(listed.map((id, i) => [id, i])),
    laneKey: `${workspaceId}:${withKnown ? 1 : 0}:${listed.join(',')}`,
    decider: new Decider(def, segments),
    until: now + AUDIENCE_TTL_MS,
  };
  if (readAt === generation) entries.set(key(workspaceId, def.id), entry);
  return entry;
}

/** Forget one audience (after an edit here), a workspace's, or everything (tests that edit rows directly). */
export function forgetAudiences(workspaceId?: string, audienceId?: string) {
  generation++;
  if (!workspaceId) return entries.clear();
  if (audienceId) return void entries.delete(key(workspaceId, audienceId));
  for (const k of entries.keys()) if (k.startsWith(`${workspaceId}:`)) entries.delete(k);
}
