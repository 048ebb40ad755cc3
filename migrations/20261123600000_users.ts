import type { Knex } from 'knex';

/**
 * The users directory: the display name and its search keys as SQL functions (one definition shared by the
 * indexes and the queries), and indexes that match the directory's sorts and prefix searches.
 *
 * Cost, accepted on purpose: with last_seen_at indexed, an ingest update of a user is no longer a HOT update,
 * so every index below gets an entry per updated user. They are kept few and narrow.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- The name trait, else firstName/first_name + lastName/last_name; null when none is set.
    create function ag_user_name(traits jsonb) returns text language sql immutable parallel safe as $$
      select coalesce(
        nullif(btrim(traits ->> 'name'), ''),
        nullif(btrim(coalesce(traits ->> 'firstName', traits ->> 'first_name', '') || ' ' ||
                     coalesce(traits ->> 'lastName', traits ->> 'last_name', '')), '')
      )
    $$;
    -- What follows the first word of the name ("Ada King Lovelace" -> "King Lovelace"), so "love" finds Lovelace.
    -- Schema-qualified: PostgreSQL 17 builds indexes with search_path = pg_catalog, pg_temp (the embedded server is 17).
    create function ag_user_surname(traits jsonb) returns text language sql immutable parallel safe as $$
      select substring(public.ag_user_name(traits) from '\\s+(\\S.*)$')
    $$;

    -- Sorts (btree scans backwards for desc; the user_id tie-break makes the keyset total).
    create index users_last_seen_idx on users (workspace_id, last_seen_at, user_id);
    create index users_first_seen_idx on users (workspace_id, first_seen_at, user_id);
    create index users_last_response_idx on users (workspace_id, last_survey_response_at, user_id)
      where last_survey_response_at is not null;

    -- Case-insensitive prefix search (LIKE 'abc%' on text_pattern_ops works whatever the collation).
    create index users_user_id_search_idx on users (workspace_id, lower(user_id) text_pattern_ops);
    -- Not partial: the planner ignores statistics of partial expression indexes, and without them it misjudges
    -- how selective a search is (it then walks a sort index filtering every row).
    create index users_email_search_idx on users (workspace_id, lower(traits ->> 'email') text_pattern_ops);
    create index users_name_search_idx on users (workspace_id, lower(ag_user_name(traits)) text_pattern_ops);
    create index users_surname_search_idx on users (workspace_id, lower(ag_user_surname(traits)) text_pattern_ops);

    -- A user's recent events, newest first, without sorting all of a heavy user's events.
    create index events_user_time_idx on events (workspace_id, user_id, timestamp desc) where user_id is not null;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists events_user_time_idx, users_surname_search_idx, users_name_search_idx, users_email_search_idx,
      users_user_id_search_idx, users_last_response_idx, users_first_seen_idx, users_last_seen_idx;
    drop function if exists ag_user_surname(jsonb);
    drop function if exists ag_user_name(jsonb);
  `);
}
