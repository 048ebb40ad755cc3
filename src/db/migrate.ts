import type { Knex } from 'knex';
import { runMigrations as runWorkerMigrations } from 'graphile-worker';
import { migrations } from '../../migrations/index.js';

class ListedMigrations implements Knex.MigrationSource<string> {
  async getMigrations() { return Object.keys(migrations); }
  getMigrationName(name: string) { return name; }
  async getMigration(name: string) { return migrations[name]; }
}

export const migrationConfig: Knex.MigratorConfig = { migrationSource: new ListedMigrations() };

/** Applies our migrations and graphile-worker's own schema (the outbox). */
export async function migrate(db: Knex, connectionString: string): Promise<void> {
  await runWorkerMigrations({ connectionString });
  await db.migrate.latest(migrationConfig);
}

/** True when every known migration has run (used by /readyz). */
export async function migrationsCurrent(db: Knex): Promise<boolean> {
  const [, pending] = (await db.migrate.list(migrationConfig)) as [unknown[], unknown[]];
  return pending.length === 0;
}
