import express from 'express';
import type { AppContext } from '../http/context.js';
import { notFound } from '../http/errors.js';
import { getUserProfile } from './queries.js';
import { presentUser } from './presenter.js';

/** Mounted at /api/workspaces/:workspaceId. */
export function profileRoutes(ctx: AppContext) {
  const router = express.Router({ mergeParams: true });

  router.get('/users/:userId', async (req, res) => {
    const user = await getUserProfile(ctx.db, req.workspaceId, String(req.params.userId));
    if (!user) throw notFound('User');
    const everyone = await ctx.db('segments').where({ workspace_id: req.workspaceId, type: 'everyone' }).whereIn('status', ['active', 'paused']).pluck('id');
    res.json(presentUser(user, everyone));
  });

  return router;
}
