import express from 'express';
import type { AppContext, HotRoute } from '../http/context.js';
import { parse, validate, validateQuery } from '../http/validate.js';
import { readJson } from '../ingest/body.js';
import { requireIngestKey } from '../ingest/auth.js';
import { rateLimit } from '../ingest/rate-limit.js';
import { MESSAGE_LIMIT } from '../ingest/ingest.js';
import { CreateSurvey, UpdateSurvey, ListSurveysQuery, ResponseBody, InteractionBody, ResponsesQuery, SummaryQuery } from './schema.js';
import { createSurvey, updateSurvey, requireSurvey, listSurveys } from './surveys.js';
import { recordResponse, recordInteraction } from './responses.js';
import { listResponsesPage, summarizeSurvey } from './reporting.js';
import { surveyEligibility } from './eligibility.js';
import { presentSurvey, presentResponse } from './presenter.js';

/** The eligibility check, a GET on the hot path: mounted on the API router itself (see hotScopedRoutes in http/routes.ts). */
export function surveyHotRoutes(ctx: AppContext): HotRoute[] {
  return [{
    path: '/surveys/:surveyId/eligibility/:userId',
    handler: async (req, res) => {
      res.json(await surveyEligibility(ctx.db, req.workspaceId, String(req.params.surveyId), String(req.params.userId)));
    },
  }];
}

/** Management routes, mounted at /api/workspaces/:workspaceId. */
export function surveyRoutes(ctx: AppContext) {
  const router = express.Router({ mergeParams: true });

  router.post('/surveys', validate(CreateSurvey), async (req, res) => {
    res.status(201).json(presentSurvey(await createSurvey(ctx.db, req.workspaceId, req.body)));
  });

  router.get('/surveys', validateQuery(ListSurveysQuery), async (req, res) => {
    const surveys = await listSurveys(ctx.db, req.workspaceId, res.locals.query.status);
    res.json({ surveys: surveys.map(presentSurvey) });
  });

  router.get('/surveys/:surveyId', async (req, res) => {
    res.json(presentSurvey(await requireSurvey(ctx.db, req.workspaceId, String(req.params.surveyId))));
  });

  router.patch('/surveys/:surveyId', validate(UpdateSurvey), async (req, res) => {
    res.json(presentSurvey(await updateSurvey(ctx.db, req.workspaceId, String(req.params.surveyId), req.body)));
  });

  router.get('/surveys/:surveyId/summary', validateQuery(SummaryQuery), async (req, res) => {
    res.json(await summarizeSurvey(ctx.db, req.workspaceId, String(req.params.surveyId), res.locals.query));
  });

  router.get('/responses', validateQuery(ResponsesQuery), async (req, res) => {
    const page = await listResponsesPage(ctx.db, req.workspaceId, res.locals.query);
    res.json({ responses: page.rows.map(presentResponse), nextCursor: page.nextCursor });
  });

  return router;
}

/** The native survey endpoints on the ingest surface (ingest key, Segment-style answers). */
export function surveyIngestRouter(ctx: AppContext) {
  const router = express.Router();
  const gates = [readJson(MESSAGE_LIMIT), requireIngestKey(ctx), rateLimit(ctx, () => 1)];

  router.post('/v1/responses', ...gates, async (req, res) => {
    await recordResponse(ctx, req.workspaceId, parse(ResponseBody, req.body, 'response'));
    res.json({ success: true });
  });

  router.post('/v1/interactions', ...gates, async (req, res) => {
    await recordInteraction(ctx, req.workspaceId, parse(InteractionBody, req.body, 'interaction'));
    res.json({ success: true });
  });

  return router;
}
