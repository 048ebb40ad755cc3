import { afterAll, beforeAll } from 'vitest';
import request from 'supertest';
import { createApp, type GatewayApp } from '../../src/http/app.js';
import type { AppContext } from '../../src/http/context.js';
import { GroupCommitWriter } from '../../src/ingest/writer.js';
import { SecretBox } from '../../src/lib/crypto.js';
import { FakeClock } from '../../src/lib/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { freshDatabase, type TestDatabase } from './db.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestGateway {
  ctx: AppContext;
  app: GatewayApp;
  database: TestDatabase;
  clock: FakeClock;
  /** supertest against the app with the admin token already set. */
  api: {
    get(path: string): request.Test;
    post(path: string): request.Test;
    put(path: string): request.Test;
    patch(path: string): request.Test;
    delete(path: string): request.Test;
  };
  /** supertest without credentials. */
  http: ReturnType<typeof request>;
  createWorkspace(name?: string): Promise<{ id: string; ingestKey: string }>;
}

/**
 * One clean database and one in-process app per test file. The clock is a FakeClock that starts at the
 * real time: tests move it to cross event windows without sleeping.
 */
export function useGateway(overrides: Partial<Config> = {}): TestGateway {
  const gw = {} as TestGateway;
  beforeAll(async () => {
    gw.database = await freshDatabase();
    gw.clock = new FakeClock();
    const config = { ...loadConfig({ ...process.env, DATABASE_URL: gw.database.url, ADMIN_TOKEN }), ...overrides };
    gw.ctx = {
      db: gw.database.db,
      config,
      secrets: new SecretBox('test-secret-key'),
      adminToken: ADMIN_TOKEN,
      writer: new GroupCommitWriter(gw.database.db),
      clock: gw.clock,
    };
    gw.app = createApp(gw.ctx);
    gw.http = request(gw.app);
    const auth = (t: request.Test) => t.set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    gw.api = {
      get: (p) => auth(request(gw.app).get(p)),
      post: (p) => auth(request(gw.app).post(p)),
      put: (p) => auth(request(gw.app).put(p)),
      patch: (p) => auth(request(gw.app).patch(p)),
      delete: (p) => auth(request(gw.app).delete(p)),
    };
    gw.createWorkspace = async (name = 'Acme') => {
      const res = await gw.api.post('/api/workspaces').send({ name }).expect(201);
      return { id: res.body.id, ingestKey: res.body.ingestKey };
    };
  });
  afterAll(async () => {
    await gw.ctx?.writer.drain();
    await gw.database?.drop();
  });
  return gw;
}
