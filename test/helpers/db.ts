import crypto from 'node:crypto';
import pg from 'pg';
import type { Knex } from 'knex';
import { inject } from 'vitest';
import { createDb } from '../../src/db/knex.js';

export interface TestDatabase { url: string; db: Knex; drop(): Promise<void> }

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try { await client.query(sql); } finally { await client.end(); }
}

/** A new database cloned from the migrated template: a clean schema for one test file. */
export async function freshDatabase(): Promise<TestDatabase> {
  const name = `ag_t_${process.pid}_${crypto.randomBytes(5).toString('hex')}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(`create database ${name} template ${inject('templateDatabase')}`);
      break;
    } catch (e) {
      // Two files cloning the template at the same instant: "source database is being accessed by other users".
      if (attempt > 20 || (e as { code?: string }).code !== '55006') throw e;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  const u = new URL(inject('pgAdminUrl'));
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = createDb(url, 10);
  return {
    url,
    db,
    async drop() {
      await db.destroy();
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}
