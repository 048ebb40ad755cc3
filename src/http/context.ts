import type { Knex } from 'knex';
import type { RequestHandler } from 'express';
import type { Config } from '../config.js';
import type { SecretBox } from '../lib/crypto.js';
import type { Clock } from '../lib/clock.js';
import type { GroupCommitWriter } from '../ingest/writer.js';

/** What the HTTP layer and the worker share: one per process. */
export interface AppContext {
  db: Knex;
  config: Config;
  secrets: SecretBox;
  adminToken: string;
  writer: GroupCommitWriter;
  clock: Clock;
}

/** A GET under /api/workspaces/:workspaceId that is matched ahead of the area routers (see hotScopedRoutes). */
export interface HotRoute {
  path: string;
  handler: RequestHandler;
}
