import type { IngestMessage } from '../ingest/normalize.js';

/** Traits with the event time (epoch ms) that set each one; the later time wins per trait. */
export interface TraitSet { traits: Record<string, unknown>; times: Record<string, number> }

/** `received`: when the gateway received the latest of its messages (by the app's clock; see profiles/store.ts USER_CHANGE_MARKS). */
export interface ProfileDelta { workspace_id: string; id: string; traits: Record<string, unknown>; times: Record<string, number>; first_seen: string; last_seen: string; received: string }
export interface MembershipRow { workspace_id: string; user_id: string; group_id: string; joined_at: string }
export interface CountRow { workspace_id: string; user_id: string; event: string; day: string; count: number }
export interface LinkRow { workspace_id: string; anonymous_id: string; user_id: string; at: string }
export interface DirtyRow { workspace_id: string; user_id: string; inputs: string[] }

export interface ProfileChanges {
  users: ProfileDelta[];
  anonymous: ProfileDelta[];
  accounts: ProfileDelta[];
  memberships: MembershipRow[];
  counts: CountRow[];
  links: LinkRow[];
  dirty: DirtyRow[];
}

function mergeInto(target: TraitSet, traits: Record<string, unknown> | null, at: number) {
  if (!traits) return;
  for (const [k, v] of Object.entries(traits)) {
    const prev = target.times[k];
    if (prev === undefined || at >= prev) {
      target.traits[k] = v;
      target.times[k] = at;
    }
  }
}

class DeltaMap {
  private map = new Map<string, ProfileDelta & { set: TraitSet; min: number; max: number; receivedMax: number }>();
  add(workspaceId: string, id: string, at: number, traits: Record<string, unknown> | null, received: number) {
    const key = `${workspaceId}\u0001${id}`;
    let d = this.map.get(key);
    if (!d) {
      const set: TraitSet = { traits: Object.create(null), times: Object.create(null) };
      d = { workspace_id: workspaceId, id, traits: set.traits, times: set.times, first_seen: '', last_seen: '', received: '', set, min: at, max: at, receivedMax: received };
      this.map.set(key, d);
    }
    d.min = Math.min(d.min, at);
    d.max = Math.max(d.max, at);
    d.receivedMax = Math.max(d.receivedMax, received);
    mergeInto(d.set, traits, at);
  }
  rows(): ProfileDelta[] {
    // Sorted so concurrent transactions lock rows in the same order (no deadlocks between group commits).
    return [...this.map.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, d]) => ({ workspace_id: d.workspace_id, id: d.id, traits: d.traits, times: d.times, first_seen: new Date(d.min).toISOString(), last_seen: new Date(d.max).toISOString(), received: new Date(d.receivedMax).toISOString() }));
  }
}

/** Folds a batch of new messages into one delta per user, anonymous visitor, account and counter. */
export function aggregateProfileChanges(messages: IngestMessage[]): ProfileChanges {
  const users = new DeltaMap();
  const anonymous = new DeltaMap();
  const accounts = new DeltaMap();
  const memberships = new Map<string, MembershipRow>();
  const counts = new Map<string, CountRow>();
  const links = new Map<string, LinkRow>();
  const dirty = new Map<string, Set<string>>();
  // What a message changed for the segment engine (dirty.ts). Marks for traits and automatic fields depend on the
  // stored values, so the commit's statement adds them (profiles/store.ts USER_CHANGE_MARKS).
  const touch = (ws: string, userId: string, ...inputs: string[]) => {
    if (!inputs.length) return;
    const key = `${ws}\u0001${userId}`;
    let s = dirty.get(key);
    if (!s) dirty.set(key, (s = new Set()));
    for (const i of inputs) s.add(i);
  };

  for (const m of messages) {
    const at = m.timestamp.getTime();
    const received = m.receivedAt.getTime();
    const iso = m.timestamp.toISOString();
    const ws = m.workspaceId;
    const identifyTraits = m.type === 'identify' ? m.traits : null;
    if (m.userId) {
      users.add(ws, m.userId, at, identifyTraits, received);
      if (m.anonymousId) links.set(`${ws}\u0001${m.anonymousId}`, { workspace_id: ws, anonymous_id: m.anonymousId, user_id: m.userId, at: iso });
    } else if (m.anonymousId) {
      anonymous.add(ws, m.anonymousId, at, identifyTraits, received);
    }
    if (m.type === 'track' && m.userId && m.event) {
      const day = iso.slice(0, 10);
      const key = `${ws}\u0001${m.userId}\u0001${m.event}\u0001${day}`;
      const row = counts.get(key);
      if (row) row.count += 1;
      else counts.set(key, { workspace_id: ws, user_id: m.userId, event: m.event, day, count: 1 });
      touch(ws, m.userId, `event:${m.event}`);
    }
    if (m.type === 'group' && m.groupId) {
      accounts.add(ws, m.groupId, at, m.traits, received);
      if (m.userId) {
        const key = `${ws}\u0001${m.userId}\u0001${m.groupId}`;
        const prev = memberships.get(key);
        if (!prev || prev.joined_at > iso) {
          memberships.set(key, { workspace_id: ws, user_id: m.userId, group_id: m.groupId, joined_at: iso });
        }
        touch(ws, m.userId, 'account');
      }
    }
  }
  // Sorted (by keys computed once) so concurrent commits lock rows in the same order.
  const byKey = <T>(rows: Iterable<T>, key: (r: T) => string) =>
    [...rows].map((r) => ({ r, k: key(r) })).sort((a, b) => (a.k < b.k ? -1 : 1)).map((x) => x.r);
  return {
    users: users.rows(),
    anonymous: anonymous.rows(),
    accounts: accounts.rows(),
    memberships: byKey(memberships.values(), (r) => r.workspace_id + r.user_id + r.group_id),
    counts: byKey(counts.values(), (r) => `${r.workspace_id}${r.user_id}\u0001${r.event}\u0001${r.day}`),
    links: byKey(links.values(), (r) => r.workspace_id + r.anonymous_id),
    dirty: [...dirty.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, inputs]) => {
      const [workspace_id, user_id] = key.split('\u0001');
      return { workspace_id, user_id, inputs: [...inputs] };
    }),
  };
}
