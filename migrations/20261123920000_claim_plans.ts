import type { Knex } from 'knex';
import { CLAIM_FUNCTION } from './20261123800000_dirty_claims.js';

// dirty_users is a queue: thousands of rows under load, none a moment later. The claim function's plans were cached
// (plpgsql keeps a generic plan per session) while the table was empty, so under load every claim seq-scanned it
// and the delete joined the picked rows to it by a nested loop over the whole table: claims of 2.5 s holding row
// locks that ingest's dirty marks then waited on (ingest commits of 3.5 s; bench/incremental, docs/segments.md).
// Now the function plans each run against the table's current size (plan_cache_mode), and the delete reads the
// picked rows by ctid (a TID scan: linear whatever the plan), keeping the key check in case a row moved.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function ag_claim_dirty(n int, recover_after interval default null) returns setof dirty_claims
    language plpgsql set plan_cache_mode = force_custom_plan as $$
    begin
      perform pg_advisory_xact_lock(7209);
      if recover_after is not null then
        with stale as (
          delete from dirty_claims c
           where (c.workspace_id, c.user_id) in (
             select s.workspace_id, s.user_id from dirty_claims s
              where s.claimed_at < now() - recover_after
              order by s.claimed_at for update skip locked)
          returning c.workspace_id, c.user_id, c.inputs
        )
        insert into dirty_users as d (workspace_id, user_id, inputs)
        select s.workspace_id, s.user_id, s.inputs from stale s order by s.workspace_id, s.user_id
        on conflict (workspace_id, user_id) do update
          set inputs = array(select distinct x from unnest(d.inputs || excluded.inputs) x);
      end if;
      return query
      with picked as materialized (
        select d.ctid as tid, d.workspace_id, d.user_id from dirty_users d
         where not exists (select 1 from dirty_claims c where c.workspace_id = d.workspace_id and c.user_id = d.user_id)
         order by d.marked_at
         limit n
         for update skip locked
      ), moved as (
        delete from dirty_users d
         where d.ctid = any(array(select p.tid from picked p))
           and (d.workspace_id, d.user_id) in (select p.workspace_id, p.user_id from picked p)
        returning d.workspace_id, d.user_id, d.inputs
      )
      insert into dirty_claims (workspace_id, user_id, inputs)
      select m.workspace_id, m.user_id, m.inputs from moved m
      returning *;
    end
    $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop function ag_claim_dirty(int, interval); ${CLAIM_FUNCTION}`);
}
