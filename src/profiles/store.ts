import type { Db } from '../db/types.js';
import { prepared } from '../db/prepared.js';
import type { ProfileChanges, ProfileDelta } from './aggregate.js';
import { markDirty, upsertDirty, type DirtyEntry } from '../segments/dirty.js';

const json = (rows: unknown[]) => JSON.stringify(rows);
const DELTA_COLUMNS = `id text, traits jsonb, times jsonb, first_seen timestamptz, last_seen timestamptz, workspace_id uuid`;


/**
 * The SET clause that merges an upsert's traits into the row's (later time wins per trait). Most messages are
 * tracks, which carry no traits: the merge functions are skipped for them. `alias` is a constant of ours.
 */
const mergeTraits = (alias: 'u' | 'a') =>
  `traits = case when excluded.traits = '{}' then ${alias}.traits else ag_merge_traits(${alias}.traits, ${alias}.trait_times, excluded.traits, excluded.trait_times) end,
         trait_times = case when excluded.trait_times = '{}' then ${alias}.trait_times else ag_merge_times(${alias}.trait_times, excluded.trait_times) end`;

/** One data-modifying CTE of the profile statement and the change rows it reads (its one parameter). */
interface Part { name: string; letter: string; sql: (guard: string) => string; rows: (c: ProfileChanges) => unknown[] }

const PARTS: Part[] = [
  {
    name: 'users',
    letter: 'u',
    rows: (c) => c.users,
    sql: (guard) => `users_in as (
       select * from json_to_recordset(?::json) as r(${DELTA_COLUMNS}, received timestamptz) where ${guard}
     ), users_up as (
       insert into users as u (workspace_id, user_id, traits, trait_times, first_seen_at, last_seen_at)
       select workspace_id, id, traits, times, first_seen, last_seen from users_in
       on conflict (workspace_id, user_id) do update set
         ${mergeTraits('u')},
         first_seen_at = least(u.first_seen_at, excluded.first_seen_at),
         last_seen_at = greatest(u.last_seen_at, excluded.last_seen_at),
         updated_at = now()
       returning workspace_id, user_id, xmax = 0 as created -- xmax 0: the row was inserted, not updated
     ), users_before as (
       -- The batch's users as stored before this statement (every CTE reads that snapshot), by primary key.
       select r.*, b.found, b.was_first_seen, b.was_last_seen, b.was_traits
         from users_in r
         left join lateral (
           select true as found, u.first_seen_at as was_first_seen, u.last_seen_at as was_last_seen,
                  case when r.traits <> '{}' then u.traits end as was_traits
             from users u where u.workspace_id = r.workspace_id and u.user_id = r.id offset 0
         ) b on true
     )`,
  },
  {
    name: 'anonymous',
    letter: 'v',
    rows: (c) => c.anonymous,
    sql: (guard) => `anonymous_up as (
       insert into anonymous_profiles as a (workspace_id, anonymous_id, traits, trait_times, first_seen_at, last_seen_at)
       select workspace_id, id, traits, times, first_seen, last_seen from json_to_recordset(?::json) as r(${DELTA_COLUMNS})
        where ${guard}
       on conflict (workspace_id, anonymous_id) do update set
         ${mergeTraits('a')},
         first_seen_at = least(a.first_seen_at, excluded.first_seen_at),
         last_seen_at = greatest(a.last_seen_at, excluded.last_seen_at)
     )`,
  },
  {
    name: 'accounts',
    letter: 'a',
    rows: (c) => c.accounts,
    sql: (guard) => `changed_accounts as (
       select workspace_id, id, traits, times from json_to_recordset(?::json) as r(${DELTA_COLUMNS}) where ${guard}
     ), accounts_up as (
       insert into accounts as a (workspace_id, group_id, traits, trait_times)
       select workspace_id, id, traits, times from changed_accounts
       on conflict (workspace_id, group_id) do update set
         ${mergeTraits('a')},
         updated_at = now()
     )`,
  },
  {
    name: 'memberships',
    letter: 'm',
    rows: (c) => c.memberships,
    sql: (guard) => `members_up as (
       insert into account_members as m (workspace_id, user_id, group_id, joined_at)
       select workspace_id, user_id, group_id, joined_at
         from json_to_recordset(?::json) as r(workspace_id uuid, user_id text, group_id text, joined_at timestamptz)
        where ${guard}
       on conflict (workspace_id, user_id, group_id) do update set joined_at = least(m.joined_at, excluded.joined_at)
     )`,
  },
  {
    name: 'counts',
    letter: 'c',
    rows: (c) => c.counts,
    sql: (guard) => `counts_up as (
       insert into event_counts as c (workspace_id, user_id, event, day, count)
       select workspace_id, user_id, event, day, count
         from json_to_recordset(?::json) as r(workspace_id uuid, user_id text, event text, day date, count int)
        where ${guard}
       on conflict (workspace_id, user_id, event, day) do update set count = c.count + excluded.count
     )`,
  },
];

/**
 * After the users part: what the batch changes for each user, compared with the row as it was before the statement
 * (users_before). A user that snapshot does not have (created now, or by a concurrent commit) gets every mark:
 * - 'trait:<name>' for each trait whose value differs from the stored one (an identify repeating a user's traits,
 *   as analytics.js does on every page, marks nothing); for a new user, each of its traits;
 * - 'attribute:firstSeenAt' when an earlier message moves first seen back;
 * - 'attribute:lastSeenAt' when last seen moves on (nearly every message);
 * - 'attribute:lastSeenAt:window' when it moves on after 12 hours or more without being seen. A window condition
 *   (seen within / more than N ≥ 1 days ago) can only flip when the previous last seen was older than N days at
 *   evaluation, so for a user seen in the last 12 hours it cannot flip while the evaluator is less than 12 hours
 *   behind; segments reading only such windows are not re-checked on every event (dependencies.ts).
 * `received` is the gateway's clock at receipt, the same clock the evaluator uses.
 */
const USER_CHANGE_MARKS = `select r.workspace_id, r.id, m.input
       from users_before r
       cross join lateral (values
         ('attribute:firstSeenAt', r.first_seen < r.was_first_seen),
         ('attribute:lastSeenAt', r.last_seen > r.was_last_seen),
         ('attribute:lastSeenAt:window', r.last_seen > r.was_last_seen and r.was_last_seen < r.received - interval '12 hours')
       ) m (input, moved)
      where m.moved is not false -- null when the user was not found: marked
     union all
     select r.workspace_id, r.id, 'trait:' || t.key
       from users_before r cross join lateral jsonb_each(r.traits) t
      where r.found is null or (r.was_traits -> t.key) is distinct from t.value`;

/** After the accounts part: the existing members of the accounts whose traits changed (their segments may change too). */
const ACCOUNT_MEMBERS = `select m.workspace_id, m.user_id
       from changed_accounts r cross join lateral (
         -- OFFSET 0 keeps this an index probe per changed account: flattened into a join, the planner (which
         -- guesses 100 rows for json_to_recordset) hashes every membership of the table instead.
         select workspace_id, user_id from account_members m where m.workspace_id = r.workspace_id and m.group_id = r.id offset 0
       ) m`;

/**
 * The profile upserts of a batch as data-modifying CTEs (users, anonymous visitors, accounts, memberships, day
 * counters) for one statement: a commit pays one round trip and one plan for all of them, whatever the batch size.
 * Only the parts the batch has are in the statement (a plan's start-up and shutdown cost grows with its parts, and
 * were most of a small commit's PostgreSQL CPU); `key` names the combination, for the prepared statement's name.
 * They run only when `guard` (a SQL boolean) holds, which lets the ingest commit put them in the same statement as
 * the events insert (see ingest/store.ts). Each CTE sees the snapshot from before the statement, which is all any
 * of them needs: none reads another's rows.
 *
 * `marks` is a query of the dirty marks the upserts call for, as (workspace_id, user_id, input): 'new' for a user
 * created just now (the segments an empty user may match, dependencies.ts newUserMayMatch), the traits and automatic
 * fields that changed (USER_CHANGE_MARKS), 'account' for the members of accounts whose traits changed.
 */
export function profileStatement(changes: ProfileChanges, guard: string): { ctes: string; params: string[]; marks: string; key: string } {
  const parts = PARTS.filter((p) => p.rows(changes).length);
  const has = (name: string) => parts.some((p) => p.name === name);
  const marks = [
    has('users') ? `select workspace_id, user_id, 'new' from users_up where created` : '',
    has('users') ? USER_CHANGE_MARKS : '',
    has('accounts') ? `select workspace_id, user_id, 'account' from (${ACCOUNT_MEMBERS}) am` : '',
  ].filter(Boolean);
  return {
    ctes: parts.length ? parts.map((p) => p.sql(guard)).join(', ') : 'no_profile_change as (select 1)',
    params: parts.map((p) => json(p.rows(changes))),
    marks: marks.length ? marks.join(' union all ') : `select null::uuid, null::text, null::text where false`,
    key: parts.map((p) => p.letter).join('') || 'none',
  };
}

/**
 * After the profile CTEs: the dirty marks for the segment engine (the changes' own and the upserts' `marks`), in
 * the same statement, when `guard` holds. Parameter: `json(changes.dirty)` (`profileDirtyParams`).
 */
export function profileDirtyCtes(guard: string, marks: string): string {
  return `dirty_in as (
       select workspace_id, user_id, array_agg(distinct input) as inputs from (
         select r.workspace_id, r.user_id, i.input
           from json_to_recordset(?::json) as r(workspace_id uuid, user_id text, inputs json)
           cross join lateral json_array_elements_text(r.inputs) as i(input)
         union all
         ${marks}
       ) s (workspace_id, user_id, input)
        where ${guard}
        group by workspace_id, user_id
        order by workspace_id, user_id
     ), dirty_up as (
       ${upsertDirty('dirty_in')}
     )`;
}

export const profileDirtyParams = (changes: ProfileChanges) => [json(changes.dirty)];

/**
 * The identity links the ingest commit can make in its one statement, those of visitors never seen before (created
 * linked). `links_simple` is false when some visitor already has data of its own to move to the user: that needs
 * `linkIdentities`, after the user rows exist. Without links it is only `links_simple`, true. Parameters:
 * `newVisitorLinkParams(links)`.
 */
export function newVisitorLinkCtes(guard: string, links: ProfileChanges['links']): string {
  if (!links.length) return `links_simple as (select true as ok)`;
  return `links_in as (
       select * from json_to_recordset(?::json) as p(workspace_id uuid, anonymous_id text, user_id text, at timestamptz)
     ), links_new as (
       insert into anonymous_profiles (workspace_id, anonymous_id, user_id, first_seen_at, last_seen_at, merged_at)
       select workspace_id, anonymous_id, user_id, at, at, now() from links_in where ${guard}
       on conflict do nothing
       returning 1
     ), links_simple as (
       select (select count(*) from links_new)
              -- LATERAL … LIMIT 1: an index probe per link, never a scan of every visitor (the planner guesses
              -- 100 rows for json_to_recordset and would otherwise hash the whole table).
              + (select count(*) from links_in l cross join lateral (
                   select 1 from anonymous_profiles a
                    where a.workspace_id = l.workspace_id and a.anonymous_id = l.anonymous_id and a.user_id is not null
                    limit 1) linked_before)
              = (select count(*) from links_in) as ok
     )`;
}

export const newVisitorLinkParams = (links: ProfileChanges['links']) => (links.length ? [json(links)] : []);

/** The profile upserts alone, in one statement. Returns the dirty marks they call for. */
export async function upsertProfiles(db: Db, changes: ProfileChanges): Promise<DirtyEntry[]> {
  const { users, anonymous, accounts, memberships, counts } = changes;
  if (!users.length && !anonymous.length && !accounts.length && !memberships.length && !counts.length) return [];
  const st = profileStatement(changes, 'true');
  const { rows } = await db.raw(
    `with ${st.ctes}
     select workspace_id, user_id, array_agg(input) as inputs from (${st.marks}) m (workspace_id, user_id, input)
      group by workspace_id, user_id`,
    st.params,
  ).options(prepared(`ag_upsert_profiles_${st.key}`));
  return rows;
}

/**
 * Links anonymous visitors to users. The first time an anonymousId meets a userId, the visitor's traits,
 * first-seen time and events move to the user (events keep their anonymousId; their counters are added), and
 * the users that gained data this way are marked dirty for every segment ('*').
 */
export async function linkIdentities(db: Db, links: ProfileChanges['links']): Promise<void> {
  if (!links.length) return;
  await db.raw(
    `with pairs as (
       select * from json_to_recordset(?::json) as p(workspace_id uuid, anonymous_id text, user_id text, at timestamptz)
     ), ensure as (
       -- A visitor first seen with its user is linked from birth ('linked' below cannot see rows made here).
       insert into anonymous_profiles (workspace_id, anonymous_id, user_id, first_seen_at, last_seen_at, merged_at)
       select workspace_id, anonymous_id, user_id, at, at, now() from pairs
       on conflict do nothing
     ), linked as (
       update anonymous_profiles a set user_id = p.user_id, merged_at = now()
         from pairs p
        where a.workspace_id = p.workspace_id and a.anonymous_id = p.anonymous_id and a.user_id is null
       returning a.workspace_id, a.anonymous_id, a.user_id, a.traits, a.trait_times, a.first_seen_at
     ), merged as (
       update users u set
         traits = ag_merge_traits(u.traits, u.trait_times, l.traits, l.trait_times),
         trait_times = ag_merge_times(u.trait_times, l.trait_times),
         first_seen_at = least(u.first_seen_at, l.first_seen_at),
         updated_at = now()
         from linked l
        where u.workspace_id = l.workspace_id and u.user_id = l.user_id
     ), moved as (
       update events e set user_id = l.user_id
         from linked l
        where e.workspace_id = l.workspace_id and e.anonymous_id = l.anonymous_id and e.user_id is null
       returning e.workspace_id, e.user_id, e.type, e.event, e.timestamp
     ), counted as (
       insert into event_counts as c (workspace_id, user_id, event, day, count)
       select workspace_id, user_id, event, (timestamp at time zone 'UTC')::date, count(*)
         from moved where type = 'track' and event is not null
        group by 1, 2, 3, 4
       on conflict (workspace_id, user_id, event, day) do update set count = c.count + excluded.count
     ), merged_users as (
       select workspace_id, user_id, array['*'] as inputs from linked group by workspace_id, user_id order by workspace_id, user_id
     ), merged_dirty as (
       ${upsertDirty('merged_users')}
     )
     select 1`,
    [json(links)],
  ).options(prepared('ag_link_identities'));
}

/**
 * What follows the upserts: identity links (after them, so a user created by this batch exists before a visitor's
 * data merges into it), then the dirty marks for the segment engine.
 */
export async function finishProfileChanges(db: Db, changes: ProfileChanges, upsertMarks: DirtyEntry[]): Promise<void> {
  await linkIdentities(db, changes.links);
  await markDirty(db, [...changes.dirty, ...upsertMarks]);
}
