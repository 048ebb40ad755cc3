import type { Knex } from 'knex';

// Every table is keyed by workspace_id first (tenancy, and a distribution key should we shard later).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create extension if not exists pgcrypto;

    create table workspaces (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      ingest_key_hash bytea not null unique,
      ingest_key_hint text not null,
      webhook_secret_enc text,
      rate_limit_per_sec integer,
      created_at timestamptz not null default now()
    );

    -- Later timestamp wins per trait, so an out-of-order identify never rolls a trait back.
    -- times holds epoch milliseconds per trait name.
    create function ag_merge_traits(old_traits jsonb, old_times jsonb, new_traits jsonb, new_times jsonb)
    returns jsonb language sql immutable parallel safe as $$
      select coalesce(old_traits, '{}'::jsonb) || coalesce((
        select jsonb_object_agg(n.key, n.value) from jsonb_each(coalesce(new_traits, '{}'::jsonb)) n
        where (old_times ->> n.key) is null
           or (new_times ->> n.key)::bigint >= (old_times ->> n.key)::bigint
      ), '{}'::jsonb)
    $$;
    create function ag_merge_times(old_times jsonb, new_times jsonb)
    returns jsonb language sql immutable parallel safe as $$
      select coalesce(old_times, '{}'::jsonb) || coalesce((
        select jsonb_object_agg(n.key, n.value) from jsonb_each(coalesce(new_times, '{}'::jsonb)) n
        where (old_times ->> n.key) is null or (n.value #>> '{}')::bigint >= (old_times ->> n.key)::bigint
      ), '{}'::jsonb)
    $$;

    create table events (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      id bigint generated always as identity,
      message_id text not null,
      type text not null,
      user_id text,
      anonymous_id text,
      event text,
      group_id text,
      properties jsonb,
      traits jsonb,
      context jsonb,
      integrations jsonb,
      extra jsonb,
      timestamp timestamptz not null,
      original_timestamp timestamptz,
      sent_at timestamptz,
      received_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, message_id)
    );
    create index events_user_idx on events (workspace_id, user_id, event, timestamp);
    create index events_anonymous_idx on events (workspace_id, anonymous_id) where user_id is null;
    create index events_received_idx on events (workspace_id, received_at desc);

    create table users (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      user_id text not null,
      traits jsonb not null default '{}',
      trait_times jsonb not null default '{}',
      first_seen_at timestamptz not null,
      last_seen_at timestamptz not null,
      last_survey_response_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, user_id)
    );

    -- A visitor known only by anonymousId; user_id is set once an identify links it to a user.
    create table anonymous_profiles (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      anonymous_id text not null,
      user_id text,
      traits jsonb not null default '{}',
      trait_times jsonb not null default '{}',
      first_seen_at timestamptz not null,
      last_seen_at timestamptz not null,
      merged_at timestamptz,
      primary key (workspace_id, anonymous_id)
    );

    create table accounts (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      group_id text not null,
      traits jsonb not null default '{}',
      trait_times jsonb not null default '{}',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, group_id)
    );

    create table account_members (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      user_id text not null,
      group_id text not null,
      joined_at timestamptz not null,
      primary key (workspace_id, user_id, group_id)
    );
    create index account_members_group_idx on account_members (workspace_id, group_id);

    -- Pre-aggregated behaviour: the segment engine reads these instead of scanning raw events.
    create table event_counts (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      user_id text not null,
      event text not null,
      day date not null,
      count integer not null,
      primary key (workspace_id, user_id, event, day)
    );
    create index event_counts_event_idx on event_counts (workspace_id, event, day) include (user_id, count);

    -- Users whose data changed since the incremental evaluator last looked; inputs names what changed
    -- ('trait:plan', 'event:Signed Up', 'account', 'attribute', 'survey:<id>', 'interaction:<id>', 'segment:<id>').
    create table dirty_users (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      user_id text not null,
      inputs text[] not null default '{}',
      marked_at timestamptz not null default clock_timestamp(),
      primary key (workspace_id, user_id)
    );
    create index dirty_users_marked_idx on dirty_users (marked_at);

    create table surveys (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      name text not null,
      status text not null default 'active',
      questions jsonb not null,
      audience_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, id)
    );

    create table survey_responses (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      message_id text not null,
      survey_id uuid not null,
      user_id text not null,
      answers jsonb not null,
      completed_at timestamptz not null,
      received_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, message_id),
      foreign key (workspace_id, survey_id) references surveys (workspace_id, id)
    );
    create index survey_responses_survey_idx on survey_responses (workspace_id, survey_id, completed_at);
    create index survey_responses_user_idx on survey_responses (workspace_id, user_id, survey_id, completed_at);

    create table survey_interactions (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      message_id text not null,
      survey_id uuid not null,
      user_id text not null,
      type text not null check (type in ('seen', 'dismissed')),
      at timestamptz not null,
      received_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, message_id),
      foreign key (workspace_id, survey_id) references surveys (workspace_id, id)
    );
    create index survey_interactions_user_idx on survey_interactions (workspace_id, user_id, survey_id, type, at);

    create table segments (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      name text not null,
      description text,
      type text not null check (type in ('dynamic', 'static', 'everyone')),
      status text not null default 'draft' check (status in ('draft', 'active', 'paused', 'archived')),
      definition jsonb,
      schedule jsonb,
      last_evaluated_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, id)
    );

    create table segment_members (
      workspace_id uuid not null,
      segment_id uuid not null,
      user_id text not null,
      entered_at timestamptz not null default now(),
      primary key (workspace_id, segment_id, user_id),
      foreign key (workspace_id, segment_id) references segments (workspace_id, id) on delete cascade
    );
    create index segment_members_user_idx on segment_members (workspace_id, user_id);

    create table membership_log (
      workspace_id uuid not null,
      id bigint generated always as identity,
      segment_id uuid not null,
      user_id text not null,
      change text not null check (change in ('entered', 'exited')),
      cause text not null check (cause in ('full', 'incremental', 'schedule', 'manual')),
      at timestamptz not null default now(),
      primary key (workspace_id, id),
      foreign key (workspace_id, segment_id) references segments (workspace_id, id) on delete cascade
    );
    create index membership_log_segment_idx on membership_log (workspace_id, segment_id, at desc);
    create index membership_log_user_idx on membership_log (workspace_id, user_id, at desc);

    create table segment_size_history (
      workspace_id uuid not null,
      segment_id uuid not null,
      at timestamptz not null default now(),
      size integer not null,
      entered integer not null,
      exited integer not null,
      cause text not null,
      foreign key (workspace_id, segment_id) references segments (workspace_id, id) on delete cascade
    );
    create index segment_size_history_idx on segment_size_history (workspace_id, segment_id, at desc);

    create table audiences (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      name text not null,
      include uuid[] not null default '{}',
      match text not null default 'any' check (match in ('any', 'all')),
      exclude uuid[] not null default '{}',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, id)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table if exists audiences, segment_size_history, membership_log, segment_members, segments,
      survey_interactions, survey_responses, surveys, dirty_users, event_counts, account_members,
      accounts, anonymous_profiles, users, events, workspaces cascade;
    drop function if exists ag_merge_traits(jsonb, jsonb, jsonb, jsonb);
    drop function if exists ag_merge_times(jsonb, jsonb);
  `);
}
