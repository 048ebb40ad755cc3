import type { Db } from '../db/types.js';

export interface DirtyEntry { workspace_id: string; user_id: string; inputs: string[] }

/**
 * Marks users for the incremental evaluator, in the caller's transaction. `inputs` says what changed
 * ('trait:<name>', 'event:<name>', 'account', 'attribute:<field>', 'attribute:lastSeenAt:window', 'survey:<id>',
 * 'interaction:<id>', 'segment:<id>', 'new' for a user created just now, '*' for everything, 'attribute' for any
 * automatic field) so the evaluator re-checks only the segments that read it.
 */
export async function markDirty(db: Db, entries: DirtyEntry[]): Promise<void> {
  if (!entries.length) return;
  const merged = new Map<string, DirtyEntry>();
  for (const e of entries) {
    const key = `${e.workspace_id}\u0001${e.user_id}`;
    const prev = merged.get(key);
    if (prev) prev.inputs = [...new Set([...prev.inputs, ...e.inputs])];
    else merged.set(key, { ...e, inputs: [...new Set(e.inputs)] });
  }
  const rows = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  await db.raw(
    upsertDirty(`(select workspace_id, user_id, array(select json_array_elements_text(inputs)) as inputs
                    from json_to_recordset(?::json) as r(workspace_id uuid, user_id text, inputs json)) s`),
    [JSON.stringify(rows)],
  );
}

/**
 * The dirty-marks upsert from `source`, a subquery or CTE name of (workspace_id, user_id, inputs text[]) with one
 * row per user, so other statements (the ingest commit) can mark users in the same round trip.
 */
export function upsertDirty(source: string): string {
  return `insert into dirty_users as d (workspace_id, user_id, inputs)
     select workspace_id, user_id, inputs from ${source}
     on conflict (workspace_id, user_id) do update
       set inputs = array(select distinct x from unnest(d.inputs || excluded.inputs) x)
       -- A user already marked for these inputs is left alone: no row rewrite on every event of a busy user.
       where not d.inputs @> excluded.inputs`;
}

/**
 * Claims up to `n` dirty users for evaluation in one short statement of its own (ag_claim_dirty: moved to
 * dirty_claims, committed at once), so ingest marking the same users again never waits for the evaluation.
 * `recoverAfterSeconds`: first put back claims that old which no transaction holds (a worker died mid-batch).
 */
export async function claimDirty(db: Db, n: number, recoverAfterSeconds?: number): Promise<DirtyEntry[]> {
  const { rows } = await db.raw(
    `select workspace_id, user_id, inputs from ag_claim_dirty(?, ?::interval)`,
    [n, recoverAfterSeconds === undefined ? null : `${recoverAfterSeconds} seconds`],
  );
  return rows as DirtyEntry[];
}

const keysOf = (entries: DirtyEntry[]) => [entries.map((e) => e.workspace_id), entries.map((e) => e.user_id)];

/**
 * In the evaluation transaction: deletes this worker's claims (locking them until commit) and returns the ones it
 * still holds; a claim that went stale and was put back is someone else's now and is not evaluated here.
 */
export async function takeClaims(db: Db, entries: DirtyEntry[]): Promise<DirtyEntry[]> {
  const { rows } = await db.raw(
    `delete from dirty_claims c
      using unnest(?::uuid[], ?::text[]) as k(workspace_id, user_id)
      where c.workspace_id = k.workspace_id and c.user_id = k.user_id
      returning c.workspace_id, c.user_id, c.inputs`,
    keysOf(entries),
  );
  return rows as DirtyEntry[];
}

/** After a failed evaluation: the claims go back to dirty_users (merged with marks made since). */
export async function releaseClaims(db: Db, entries: DirtyEntry[]): Promise<void> {
  await db.raw(
    `with c as (
       delete from dirty_claims c
        using unnest(?::uuid[], ?::text[]) as k(workspace_id, user_id)
        where c.workspace_id = k.workspace_id and c.user_id = k.user_id
       returning c.workspace_id, c.user_id, c.inputs
     )
     insert into dirty_users as d (workspace_id, user_id, inputs)
     select workspace_id, user_id, inputs from c order by workspace_id, user_id
     on conflict (workspace_id, user_id) do update
       set inputs = array(select distinct x from unnest(d.inputs || excluded.inputs) x)`,
    keysOf(entries),
  );
}
