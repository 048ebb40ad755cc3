import type { Knex } from 'knex';

/**
 * The per-user index of segment_members carries segment_id (INCLUDE), so "which of these segments is this
 * user in" (audience checks, a user's segments on the profile page) is an index-only scan instead of an
 * index scan plus a heap fetch per membership. It replaces the old (workspace_id, user_id) index under the
 * same name rather than adding one: a membership write still updates two indexes (measured in
 * docs/surveys-audiences.md: inserts within noise of before; the index is about 50 % larger).
 * Built inside the migration's transaction, so writes to segment_members wait while it builds.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create index segment_members_user_cover_idx on segment_members (workspace_id, user_id) include (segment_id);
    drop index segment_members_user_idx;
    alter index segment_members_user_cover_idx rename to segment_members_user_idx;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    create index segment_members_user_plain_idx on segment_members (workspace_id, user_id);
    drop index segment_members_user_idx;
    alter index segment_members_user_plain_idx rename to segment_members_user_idx;
  `);
}
