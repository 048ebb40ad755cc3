import type { Knex } from 'knex';

// Outbound: the Segment push integration, webhooks, Slack, and the delivery log (one row per destination per message).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table segment_integrations (
      workspace_id uuid primary key references workspaces(id) on delete cascade,
      write_key_enc text not null,
      write_key_hint text not null,
      enabled boolean not null default true,
      survey_ids uuid[],
      trait_prefix text not null default 'survey_',
      events jsonb not null default '{}',
      track_seen boolean not null default false,
      track_dismissed boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );

    create table webhooks (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      url text not null,
      segment_ids uuid[] not null,
      events text[] not null,
      secret_enc text not null,
      created_at timestamptz not null default now(),
      primary key (workspace_id, id)
    );
    create index webhooks_segments_idx on webhooks using gin (segment_ids);

    create table slack_destinations (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      webhook_url_enc text not null,
      webhook_url_hint text not null,
      segment_ids uuid[] not null,
      events text[] not null default '{segment.entered}',
      created_at timestamptz not null default now(),
      primary key (workspace_id, id)
    );
    create index slack_destinations_segments_idx on slack_destinations using gin (segment_ids);

    -- destination: 'segment' (destination_id null), 'webhook' or 'slack' (destination_id = its row).
    -- message_key names what is delivered: 'response:<id>', 'interaction:<id>', 'membership:<logId>'.
    -- payload holds the body for webhooks and Slack, fixed at fan-out so every retry sends the same bytes.
    create table deliveries (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      destination text not null check (destination in ('segment', 'webhook', 'slack')),
      destination_id uuid,
      message_key text not null,
      payload jsonb,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'retrying', 'dead')),
      attempts integer not null default 0,
      last_status_code integer,
      last_error text,
      next_attempt_at timestamptz,
      last_attempt_at timestamptz,
      delivered_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique nulls not distinct (workspace_id, destination, destination_id, message_key)
    );
    create index deliveries_status_idx on deliveries (workspace_id, status, created_at desc);
    create index deliveries_created_idx on deliveries (workspace_id, created_at desc, id desc);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table if exists deliveries, slack_destinations, webhooks, segment_integrations cascade;`);
}
