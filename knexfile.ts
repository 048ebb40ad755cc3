import { migrationConfig } from './src/db/migrate.js';

// For the knex CLI (npx knex --knexfile knexfile.ts migrate:status). The app migrates itself on start.
export default {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: migrationConfig,
};
