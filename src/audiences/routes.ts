import express from 'express';
import type { AppContext, HotRoute } from '../http/context.js';
import { validate, validateQuery } from '../http/validate.js';
import { BatchCheck, CreateAudience, MembersQuery, UpdateAudience } from './schema.js';
import { audienceMembers, audienceWithSize, checkUser, checkUsers, createAudience, listAudiences, updateAudience } from './audiences.js';
import { presentAudience, sendShared } from './presenter.js';

/** Mounted at /api/workspaces/:workspaceId. */
export function audienceRoutes(ctx: AppContext) {
  const router = express.Router({ mergeParams: true });

  router.post('/audiences', validate(CreateAudience), async (req, res) => {
    res.status(201).json(presentAudience(await createAudience(ctx.db, req.workspaceId, req.body)));
  });

  router.get('/audiences', async (req, res) => {
    res.json({ audiences: (await listAudiences(ctx.db, req.workspaceId)).map((a) => presentAudience(a)) });
  });

  router.get('/audiences/:audienceId', async (req, res) => {
    const { audience, size } = await audienceWithSize(ctx.db, req.workspaceId, String(req.params.audienceId));
    res.json(presentAudience(audience, { size }));
  });

  router.patch('/audiences/:audienceId', validate(UpdateAudience), async (req, res) => {
    res.json(presentAudience(await updateAudience(ctx.db, req.workspaceId, String(req.params.audienceId), req.body)));
  });

  router.post('/audiences/:audienceId/check', validate(BatchCheck), async (req, res) => {
    const results = await checkUsers(ctx.db, req.workspaceId, String(req.params.audienceId), req.body.userIds);
    res.json({ results: req.body.reasons ? results : results.map(({ userId, eligible }) => ({ userId, eligible })) });
  });

  router.get('/audiences/:audienceId/members', validateQuery(MembersQuery), async (req, res) => {
    res.json(await audienceMembers(ctx.db, req.workspaceId, String(req.params.audienceId), res.locals.query));
  });

  return router;
}

/** The single check, a GET on the hot path: mounted on the API router itself (see hotScopedRoutes in http/routes.ts). */
export function audienceHotRoutes(ctx: AppContext): HotRoute[] {
  return [{
    path: '/audiences/:audienceId/check/:userId',
    handler: async (req, res) => {
      sendShared(res, await checkUser(ctx.db, req.workspaceId, String(req.params.audienceId), String(req.params.userId)));
    },
  }];
}
