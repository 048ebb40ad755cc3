import type { Knex } from 'knex';

// The ingest commit as one statement in autocommit when it can be (see src/ingest/writer.ts): the statement asks
// ag_require to abort it when the batch needs more (some messages were already stored, or a visitor's own data
// must move to its user), so the writer can redo that rare batch in a transaction of several statements instead.
//
// events loses its foreign key to workspaces: the per-row check cost about a third of the insert (EXPLAIN ANALYZE
// in docs/ingest.md), events are only written for the authenticated workspace, and workspaces are never deleted.
// Its received_at index goes too: the admin page's recent-events list reads newest by id (the primary key)
// instead, one index less to write per event.
//
// users loses its statement trigger that marked new users dirty for every segment: it fired on every ingest
// statement (an upsert is an insert statement) and cost about a third of a small commit's PostgreSQL CPU. The two
// statements that create users mark them themselves now (RETURNING xmax = 0 tells a created row).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function ag_require(ok boolean) returns boolean language plpgsql as $$
    begin
      if not ok then
        raise exception 'this batch needs the multi-statement commit' using errcode = 'AGTXN';
      end if;
      return true;
    end $$;
    alter table events drop constraint events_workspace_id_fkey;
    drop index events_received_idx;
    drop trigger users_new_dirty on users;
    drop function ag_mark_new_users_dirty();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    create function ag_mark_new_users_dirty() returns trigger language plpgsql as $$
    begin
      insert into dirty_users as d (workspace_id, user_id, inputs)
      select workspace_id, user_id, '{*}' from inserted order by workspace_id, user_id
      on conflict (workspace_id, user_id) do update
        set inputs = array(select distinct x from unnest(d.inputs || excluded.inputs) x);
      return null;
    end
    $$;
    create trigger users_new_dirty after insert on users
      referencing new table as inserted for each statement execute function ag_mark_new_users_dirty();
    create index events_received_idx on events (workspace_id, received_at desc);
    alter table events add constraint events_workspace_id_fkey foreign key (workspace_id) references workspaces (id) on delete cascade;
    drop function ag_require(boolean);
  `);
}
