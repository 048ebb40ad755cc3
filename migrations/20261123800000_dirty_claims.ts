import type { Knex } from 'knex';

// Incremental evaluator: dirty users are claimed (moved to dirty_claims) in a short statement of their own and
// evaluated in a second transaction, so ingest marking a user dirty never waits for an evaluation to finish.
// The claim row is the worker's lease on the user: no second worker claims a user while a claim exists (per-user
// order of evaluation), the evaluation deletes its claims in the transaction that writes the diff, and claims older
// than a timeout that no transaction holds (a worker died between claim and commit) go back to dirty_users.
/** The claim function as this migration made it (20261123920000's down restores it). */
export const CLAIM_FUNCTION = `
    -- Claims up to n dirty users (oldest marks first) that no other worker holds. Serialised by an advisory lock
    -- (held for the few milliseconds of the claim), so two claimers never see each other's claims half-made;
    -- plpgsql takes a new snapshot for each statement, after the lock. With recover_after set, stale claims are
    -- first put back in dirty_users.
    create function ag_claim_dirty(n int, recover_after interval default null) returns setof dirty_claims
    language plpgsql as $$
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
      with picked as (
        select d.workspace_id, d.user_id from dirty_users d
         where not exists (select 1 from dirty_claims c where c.workspace_id = d.workspace_id and c.user_id = d.user_id)
         order by d.marked_at
         limit n
         for update skip locked
      ), moved as (
        delete from dirty_users d using picked p
         where d.workspace_id = p.workspace_id and d.user_id = p.user_id
        returning d.workspace_id, d.user_id, d.inputs
      )
      insert into dirty_claims (workspace_id, user_id, inputs)
      select m.workspace_id, m.user_id, m.inputs from moved m
      returning *;
    end
    $$;`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table dirty_claims (
      workspace_id uuid not null references workspaces(id) on delete cascade,
      user_id text not null,
      inputs text[] not null,
      claimed_at timestamptz not null default now(),
      primary key (workspace_id, user_id)
    );
    create index dirty_claims_claimed_idx on dirty_claims (claimed_at);

    ${CLAIM_FUNCTION}
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function if exists ag_claim_dirty(int, interval);
    drop table if exists dirty_claims;
  `);
}
