import type { Db } from '../db/types.js';
import { randomToken, sha256 } from '../lib/crypto.js';

export interface WorkspaceRow {
  id: string;
  name: string;
  ingest_key_hint: string;
  webhook_secret_enc: string | null;
  rate_limit_per_sec: number | null;
  created_at: Date;
}

const COLUMNS = ['id', 'name', 'ingest_key_hint', 'webhook_secret_enc', 'rate_limit_per_sec', 'created_at'];

function newIngestKey() {
  const key = `agk_${randomToken(32)}`;
  return { key, hash: sha256(key), hint: `${key.slice(0, 8)}…${key.slice(-4)}` };
}

export async function createWorkspace(db: Db, name: string): Promise<{ workspace: WorkspaceRow; ingestKey: string }> {
  const k = newIngestKey();
  const [workspace] = await db('workspaces').insert({ name, ingest_key_hash: k.hash, ingest_key_hint: k.hint }).returning(COLUMNS);
  return { workspace, ingestKey: k.key };
}

export async function rotateIngestKey(db: Db, workspaceId: string): Promise<string | null> {
  const k = newIngestKey();
  const n = await db('workspaces').where({ id: workspaceId }).update({ ingest_key_hash: k.hash, ingest_key_hint: k.hint });
  return n ? k.key : null;
}

export async function getWorkspace(db: Db, id: string): Promise<WorkspaceRow | undefined> {
  return db('workspaces').select(COLUMNS).where({ id }).first();
}

export async function listWorkspaces(db: Db): Promise<WorkspaceRow[]> {
  return db('workspaces').select(COLUMNS).orderBy('created_at');
}

/** The lookup goes by the key's SHA-256: the plain key is never stored or compared. */
export async function findWorkspaceByKeyHash(db: Db, hash: Buffer): Promise<(WorkspaceRow & { ingest_key_hash: Buffer }) | undefined> {
  return db('workspaces').select([...COLUMNS, 'ingest_key_hash']).where({ ingest_key_hash: hash }).first();
}

export async function updateWorkspace(db: Db, id: string, patch: { name?: string; webhook_secret_enc?: string | null; rate_limit_per_sec?: number | null }) {
  const [row] = await db('workspaces').where({ id }).update(patch).returning(COLUMNS);
  return row as WorkspaceRow | undefined;
}
