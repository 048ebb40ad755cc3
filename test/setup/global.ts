import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/embedded.js';
import { createDb } from '../../src/db/knex.js';
import { migrate } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    templateDatabase: string;
  }
}

function alive(pid: number) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function withDatabase(url: string, name: string) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fingerprint of the schema: migrations and the job queue's version. A change builds a new template. */
function schemaFingerprint() {
  const h = crypto.createHash('sha256');
  const dir = path.resolve('migrations');
  for (const f of fs.readdirSync(dir).sort()) h.update(f).update(fs.readFileSync(path.join(dir, f)));
  h.update(JSON.parse(fs.readFileSync(path.resolve('node_modules/graphile-worker/package.json'), 'utf8')).version);
  return h.digest('hex').slice(0, 12);
}

/**
 * Tests run against real PostgreSQL: TEST_DATABASE_URL / DATABASE_URL when given, else an embedded server.
 * Migrations run once into a template database; each test file clones it (CREATE DATABASE ... TEMPLATE),
 * so files get a clean schema each and can run in parallel.
 */
export default async function setup(project: TestProject) {
  let embedded: EmbeddedServer | undefined;
  let url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-test-pg-'));
    fs.chmodSync(dir, 0o755);
    embedded = await startEmbeddedPostgres(path.join(dir, 'data'), { quiet: true });
    url = embedded.url;
  }
  const template = `ag_template_${schemaFingerprint()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [template]);
    if (!rowCount) {
      const building = `${template}_${process.pid}`;
      await admin.query(`drop database if exists ${building}`);
      await admin.query(`create database ${building}`);
      const buildUrl = withDatabase(url, building);
      const db = createDb(buildUrl, 2);
      await migrate(db, buildUrl);
      await db.destroy();
      await admin.query(`alter database ${building} rename to ${template}`).catch(async () => {
        await admin.query(`drop database if exists ${building}`);
      });
    }
    // Databases left by earlier runs that were killed before cleaning up (their process is gone).
    // Templates are kept: another checkout with other migrations may be using its own right now.
    const { rows } = await admin.query(`select datname from pg_database where datname like 'ag\\_t\\_%'`);
    for (const r of rows as { datname: string }[]) {
      const pid = Number(r.datname.split('_')[2]);
      if (alive(pid)) continue;
      await admin.query(`drop database if exists "${r.datname}" with (force)`).catch(() => undefined);
    }
  } finally {
    await admin.end();
  }
  project.provide('pgAdminUrl', url);
  project.provide('templateDatabase', template);
  return async () => {
    await embedded?.stop();
  };
}
