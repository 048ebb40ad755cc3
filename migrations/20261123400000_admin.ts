import type { Knex } from 'knex';

// Admin page sessions. Only the SHA-256 of the session token is stored, so a database read cannot log anyone in.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table admin_sessions (
      id_hash bytea primary key,
      csrf_token text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      user_agent text
    );
    create index admin_sessions_expires_idx on admin_sessions (expires_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists admin_sessions');
}
