import type { Knex } from 'knex';
import { parse as parseCsv } from 'csv-parse/sync';
import { HttpError, notFound } from '../http/errors.js';
import type { Definition } from './schema.js';
import { selectMatching } from './compile.js';
import { referencedSegments } from './dependencies.js';
import { markDirty } from './dirty.js';
import { checkReferences } from './lifecycle.js';
import { sql } from './sql.js';
import {
  activeDynamicSegments, addMembers, allUsersOf, applyDiffRows, getSegment, knownUserIds, knownUsersIn, membersOf,
  recordSize, removeMembers, segmentSize, segmentTypes, userIdsByEmail, type MembershipChange, type SegmentRow,
} from './store.js';

export interface StaticResult { added: number; removed: number; size: number; unknown?: string[] }

async function staticSegment(trx: Knex.Transaction, workspaceId: string, id: string): Promise<SegmentRow> {
  const s = await getSegment(trx, workspaceId, id, { forUpdate: true });
  if (!s) throw notFound('Segment');
  if (s.type !== 'static') throw new HttpError(409, 'not_static', `Members can be set by hand only on static segments; this one is ${s.type}`);
  if (s.status === 'archived') throw new HttpError(409, 'archived', 'An archived segment cannot be changed; unarchive it first');
  return s;
}

/** Records the outcome of a manual change, and marks changed users dirty for the segments that reference this one. */
async function finish(trx: Knex.Transaction, workspaceId: string, segment: SegmentRow, changes: MembershipChange[], now: Date, unknown?: string[]): Promise<StaticResult> {
  const added = changes.filter((c) => c.change === 'entered').length;
  const removed = changes.length - added;
  const size = await segmentSize(trx, workspaceId, segment);
  await recordSize(trx, workspaceId, segment.id, { size, entered: added, exited: removed, cause: 'manual', at: now });
  const dependents = (await activeDynamicSegments(trx, [workspaceId])).filter((s) => referencedSegments(s.definition).includes(segment.id));
  if (dependents.length && changes.length) {
    await markDirty(trx, [...new Set(changes.map((c) => c.user_id))].map((user_id) => ({ workspace_id: workspaceId, user_id, inputs: [`segment:${segment.id}`] })));
  }
  return unknown ? { added, removed, size, unknown } : { added, removed, size };
}

/** Adds known users to a static list, or replaces the list with them. Unknown ids are reported, never created. */
export async function setMembers(db: Knex, workspaceId: string, id: string, userIds: string[], mode: 'add' | 'replace', now: Date): Promise<StaticResult> {
  return db.transaction(async (trx) => {
    const segment = await staticSegment(trx, workspaceId, id);
    const ids = [...new Set(userIds)];
    const known = await knownUserIds(trx, workspaceId, ids);
    const unknown = ids.filter((u) => !known.has(u));
    const changes = mode === 'add'
      ? await addMembers(trx, workspaceId, id, knownUsersIn(workspaceId, ids), 'manual', now)
      : await applyDiffRows(trx, { workspaceId, segmentId: id, target: knownUsersIn(workspaceId, ids), cause: 'manual', at: now });
    return finish(trx, workspaceId, segment, changes, now, unknown);
  });
}

export async function deleteMembers(db: Knex, workspaceId: string, id: string, userIds: string[], now: Date): Promise<StaticResult> {
  return db.transaction(async (trx) => {
    const segment = await staticSegment(trx, workspaceId, id);
    const changes = await removeMembers(trx, workspaceId, id, sql`select unnest(${[...new Set(userIds)]}::text[])`, 'manual', now);
    return finish(trx, workspaceId, segment, changes, now);
  });
}

/** Removes from a static list every member of another segment (an `everyone` segment empties it). */
export async function subtractSegment(db: Knex, workspaceId: string, id: string, otherId: string, now: Date): Promise<StaticResult> {
  return db.transaction(async (trx) => {
    const segment = await staticSegment(trx, workspaceId, id);
    const other = await getSegment(trx, workspaceId, otherId);
    if (!other) throw new HttpError(400, 'invalid', 'Invalid body: segmentId: unknown segment', [{ path: 'segmentId', message: 'Unknown segment' }]);
    const source = other.type === 'everyone' ? allUsersOf(workspaceId) : membersOf(workspaceId, otherId);
    const changes = await removeMembers(trx, workspaceId, id, source, 'manual', now);
    return finish(trx, workspaceId, segment, changes, now);
  });
}

/** "Populate from a query": a definition run once with the segment compiler; its users are added or removed. */
export async function populateFromDefinition(db: Knex, workspaceId: string, id: string, definition: Definition, mode: 'add' | 'remove', now: Date): Promise<StaticResult> {
  return db.transaction(async (trx) => {
    const segment = await staticSegment(trx, workspaceId, id);
    await checkReferences(trx, workspaceId, id, definition);
    const source = selectMatching(definition, { workspaceId, now, segmentTypes: await segmentTypes(trx, workspaceId) });
    const changes = mode === 'add'
      ? await addMembers(trx, workspaceId, id, source, 'manual', now)
      : await removeMembers(trx, workspaceId, id, source, 'manual', now);
    return finish(trx, workspaceId, segment, changes, now);
  });
}

const ID_HEADERS = ['userid', 'user_id', 'email'];

/**
 * Reads a CSV of users: one id a line without a header, or a header row with a column named userId, user_id or
 * email (emails are matched against the email trait). Returns what identifies each row.
 */
export function readUserCsv(text: string): { by: 'userId' | 'email'; values: string[] } {
  let records: string[][];
  try {
    records = parseCsv(text, { skip_empty_lines: true, trim: true, relax_column_count: true, bom: true }) as string[][];
  } catch (e) {
    throw new HttpError(400, 'invalid', `Invalid CSV: ${(e as Error).message}`);
  }
  if (!records.length) return { by: 'userId', values: [] };
  const header = records[0].map((h) => h.toLowerCase());
  const col = header.findIndex((h) => ID_HEADERS.includes(h));
  if (col === -1) {
    if (records[0].length > 1) throw new HttpError(400, 'invalid', 'CSV with several columns needs a header with a userId, user_id or email column');
    return { by: 'userId', values: records.map((r) => r[0]).filter(Boolean) };
  }
  const values = records.slice(1).map((r) => r[col]).filter((v): v is string => !!v);
  return { by: header[col] === 'email' ? 'email' : 'userId', values };
}

/** CSV import into a static list: unknown ids / emails are reported back, never created. */
export async function importCsv(db: Knex, workspaceId: string, id: string, csv: string, mode: 'add' | 'replace', now: Date): Promise<StaticResult> {
  const { by, values } = readUserCsv(csv);
  if (values.length > 1_000_000) throw new HttpError(413, 'too_large', 'At most 1,000,000 rows per import');
  if (by === 'userId') return setMembers(db, workspaceId, id, values, mode, now);
  const matches = await userIdsByEmail(db, workspaceId, values);
  const found = new Set(matches.map((m) => m.email));
  const unknown = [...new Set(values)].filter((e) => !found.has(e.toLowerCase()));
  const result = await setMembers(db, workspaceId, id, matches.map((m) => m.user_id), mode, now);
  return { ...result, unknown };
}
