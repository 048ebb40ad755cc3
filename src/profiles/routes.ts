import express from 'express';
import type { AppContext } from '../http/context.js';
import { notFound } from '../http/errors.js';
import { validateQuery } from '../http/validate.js';
import { getUserProfile } from './queries.js';
import { listUsers } from './directory.js';
import { UserListQuery } from './directory-schema.js';
import { presentDirectoryPage, presentUser } from './presenter.js';

/** Mounted at /api/workspaces/:workspaceId. */
export function profileRoutes(ctx: AppContext) {
  const router = express.Router({ mergeParams: true });

  router.get('/users', validateQuery(UserListQuery), async (req, res) => {
    const page = await listUsers(ctx.db, req.workspaceId, res.locals.query as UserListQuery, ctx.clock.now());
    res.json(presentDirectoryPage(page));
  });

  router.get('/users/:userId', async (req, res) => {
    const user = await getUserProfile(ctx.db, req.workspaceId, String(req.params.userId));
    if (!user) throw notFound('User');
    res.json(presentUser(user));
  });

  return router;
}
