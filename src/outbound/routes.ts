import express from 'express';
import type { AppContext } from '../http/context.js';
import { HttpError, notFound } from '../http/errors.js';
import { isUuid } from '../http/auth.js';
import { validate, validateQuery } from '../http/validate.js';
import { CreateSlack, CreateWebhook, DeliveriesQuery, PutSegmentIntegration, ReplaySegment, TestSegment } from './schema.js';
import {
  configureSegment, createSlack, createWebhook, replayDelivery, replaySegment, testSegment, testSlack, testWebhook,
} from './service.js';
import { deleteSlack, deleteWebhook, getSegmentIntegration, listDeliveries, listSlack, listWebhooks } from './store.js';
import { decodeCursor, encodeCursor, presentDelivery, presentSegmentIntegration, presentSlack, presentWebhook } from './presenter.js';

/** Mounted at /api/workspaces/:workspaceId: the Segment push integration, webhooks, Slack and the delivery log. */
export function outboundRoutes(ctx: AppContext) {
  const router = express.Router({ mergeParams: true });
  const idParam = (v: unknown, what: string) => {
    const id = String(v);
    if (!isUuid(id)) throw notFound(what);
    return id;
  };

  router.put('/integrations/segment', validate(PutSegmentIntegration), async (req, res) => {
    const saved = await configureSegment(ctx, req.workspaceId, req.body);
    res.json(presentSegmentIntegration(saved));
  });

  router.get('/integrations/segment', async (req, res) => {
    const integration = await getSegmentIntegration(ctx.db, req.workspaceId);
    if (!integration) throw notFound('Segment integration');
    res.json(presentSegmentIntegration(integration));
  });

  router.post('/integrations/segment/test', validate(TestSegment), async (req, res) => {
    res.json(await testSegment(ctx, req.workspaceId, req.body.userId));
  });

  router.post('/integrations/segment/replay', validate(ReplaySegment), async (req, res) => {
    const enqueued = await replaySegment(ctx, req.workspaceId, req.body);
    res.status(202).json({ enqueued });
  });

  router.get('/deliveries', validateQuery(DeliveriesQuery), async (req, res) => {
    const q = res.locals.query as DeliveriesQuery;
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    if (q.cursor && !cursor) throw new HttpError(400, 'invalid', 'Invalid query: cursor: not a cursor from this API', [{ path: 'cursor', message: 'invalid' }]);
    const byId = q.destination && isUuid(q.destination);
    const rows = await listDeliveries(ctx.db, req.workspaceId, {
      destination: byId ? undefined : q.destination, destinationId: byId ? q.destination : undefined, status: q.status, limit: q.limit + 1, cursor,
    });
    const page = rows.slice(0, q.limit);
    res.json({ deliveries: page.map(presentDelivery), nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]) : null });
  });

  router.post('/deliveries/:id/replay', async (req, res) => {
    const d = await replayDelivery(ctx, req.workspaceId, idParam(req.params.id, 'Delivery'));
    res.status(202).json(presentDelivery(d));
  });

  router.post('/webhooks', validate(CreateWebhook), async (req, res) => {
    const { row, secret } = await createWebhook(ctx, req.workspaceId, req.body);
    res.status(201).json(presentWebhook(row, secret));
  });
  router.get('/webhooks', async (req, res) => {
    res.json({ webhooks: (await listWebhooks(ctx.db, req.workspaceId)).map((w) => presentWebhook(w)) });
  });
  router.delete('/webhooks/:id', async (req, res) => {
    if (!(await deleteWebhook(ctx.db, req.workspaceId, idParam(req.params.id, 'Webhook')))) throw notFound('Webhook');
    res.status(204).end();
  });
  router.post('/webhooks/:id/test', async (req, res) => {
    res.json(await testWebhook(ctx, req.workspaceId, idParam(req.params.id, 'Webhook')));
  });

  router.post('/slack', validate(CreateSlack), async (req, res) => {
    res.status(201).json(presentSlack(await createSlack(ctx, req.workspaceId, req.body)));
  });
  router.get('/slack', async (req, res) => {
    res.json({ slack: (await listSlack(ctx.db, req.workspaceId)).map(presentSlack) });
  });
  router.delete('/slack/:id', async (req, res) => {
    if (!(await deleteSlack(ctx.db, req.workspaceId, idParam(req.params.id, 'Slack destination')))) throw notFound('Slack destination');
    res.status(204).end();
  });
  router.post('/slack/:id/test', async (req, res) => {
    res.json(await testSlack(ctx, req.workspaceId, idParam(req.params.id, 'Slack destination')));
  });

  return router;
}
