import crypto from 'node:crypto';
import type { GatewayApp } from '../../src/http/app.js';
import { HOT_INGEST_PATHS } from '../../src/ingest/hot-path.js';
import type { Knex } from 'knex';

export interface RouteInfo { method: string; path: string }

interface LayerLike {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
}

function joinPath(prefix: string, p: unknown): string[] {
  const parts = Array.isArray(p) ? p : [p];
  return parts.filter((x): x is string => typeof x === 'string').map((x) => `${prefix}${x === '/' ? '' : x}`.replace(/\/+/g, '/'));
}

/**
 * Every route the gateway answers: the ingest hot path's POSTs, and Express's routes found by walking its router
 * stacks (so routes added by other areas are covered as soon as they are mounted). Paths keep their `:params`.
 */
export function listRoutes(app: GatewayApp): RouteInfo[] {
  const out: RouteInfo[] = HOT_INGEST_PATHS.map((path) => ({ method: 'post', path }));
  const walk = (stack: LayerLike[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const full of joinPath(prefix, layer.route.path)) {
          for (const [m, on] of Object.entries(layer.route.methods)) if (on) out.push({ method: m === '_all' ? 'get' : m, path: full || '/' });
        }
      } else if (layer.handle?.stack) {
        for (const full of joinPath(prefix, layer.rawPath ?? '/')) walk(layer.handle.stack, full);
      }
    }
  };
  const router = (app.express as unknown as { router: { stack: LayerLike[] } }).router;
  walk(router.stack, '');
  const seen = new Set<string>();
  return out.filter((r) => {
    const k = `${r.method} ${r.path}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Replaces `:param` segments: `:workspaceId` by the given workspace, every other one by `fill(name)`. */
export function fillPath(path: string, workspaceId: string, fill: (param: string) => string): string {
  return path
    .replace(/\{[^}]*\}/g, '') // optional segments: left out
    .replace(/\*\w*/g, 'x')
    .replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(name === 'workspaceId' ? workspaceId : fill(name)));
}

/** Tables with a workspace_id column (ours), found from the catalog so new tables are covered automatically. */
export async function workspaceTables(db: Knex): Promise<string[]> {
  const { rows } = await db.raw(
    `select table_name from information_schema.columns
      where table_schema = 'public' and column_name = 'workspace_id'
        and table_name in (select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE')
      order by table_name`,
  );
  return (rows as { table_name: string }[]).map((r) => r.table_name);
}

/**
 * A fingerprint of everything stored for one workspace: every row of every workspace table (and the
 * workspace row, and queued jobs that name it). Equal before and after = nothing of that workspace changed.
 */
export async function snapshotWorkspace(db: Knex, workspaceId: string): Promise<Record<string, string>> {
  const snap: Record<string, string> = {};
  for (const t of await workspaceTables(db)) {
    const { rows } = await db.raw(`select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h, count(*) as n from "${t}" x where workspace_id = ?`, [workspaceId]);
    snap[t] = `${rows[0].n}:${rows[0].h}`;
  }
  const { rows: ws } = await db.raw(`select md5(x::text) as h from workspaces x where id = ?`, [workspaceId]);
  snap.workspaces = ws[0]?.h ?? 'missing';
  const { rows: jobs } = await db.raw(
    `select count(*) as n from graphile_worker.jobs where payload::text like ?`, [`%${workspaceId}%`],
  ).catch(() => ({ rows: [{ n: -1 }] }));
  snap.jobs = String(jobs[0].n);
  return snap;
}

export const randomId = () => crypto.randomUUID();

/** Fuzz settings: cases per property, and a time budget so a loaded machine stops a property early (cases run so far count, none fail). */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
export const budget = { interruptAfterTimeLimit: Number(process.env.FUZZ_BUDGET_MS ?? 15_000), markInterruptAsFailure: false };
export const TIMEOUT = 60_000;

/** One survey of each answer shape the fuzzers send answers to. */
export const QUESTIONS = [
  { id: 'nps', type: 'nps', label: 'How likely…?' },
  { id: 'plan', type: 'single_choice', label: 'Plan?', choices: ['free', 'pro'] },
  { id: 'why', type: 'text', label: 'Why?' },
];
