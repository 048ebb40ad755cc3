import type { Db } from '../db/types.js';

export interface DirtyEntry { workspace_id: string; user_id: string; inputs: string[] }

/**
 * Marks users for the incremental evaluator, in the caller's transaction. `inputs` says what changed
 * ('trait:<name>', 'event:<name>', 'account', 'attribute', 'survey:<id>', 'interaction:<id>', 'segment:<id>', '*')
 * so the evaluator re-checks only the segments that read it.
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
