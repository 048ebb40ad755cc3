import express from 'express';
import type { AppContext } from './context.js';
import { migrationsCurrent } from '../db/migrate.js';
import { registry } from './metrics.js';

export function healthRoutes(ctx: AppContext) {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await ctx.db.raw('select 1');
      const current = await migrationsCurrent(ctx.db);
      res.status(current ? 200 : 503).json({ status: current ? 'ready' : 'migrations pending', database: 'ok', migrations: current ? 'current' : 'pending' });
    } catch {
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}
