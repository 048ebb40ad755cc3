import express, { type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../http/context.js';
import { notFound } from '../http/errors.js';
import { validate, validateQuery, parse } from '../http/validate.js';
import { CreateSegment, PatchSegment, ListQuery, PageQuery, MembersByIds, MembersFromDefinition, MembersRemove, Subtract, Preview, ImportQuery } from './schema.js';
import { createSegment, patchSegment, evaluateOnDemand } from './lifecycle.js';
import { previewDefinition } from './evaluate.js';
import { deleteMembers, importCsv, populateFromDefinition, setMembers, subtractSegment } from './static.js';
import { explainUser } from './explain.js';
import { getSegment, listMembers, listSegments, segmentSize, segmentTypes, sizeHistory } from './store.js';
import { decodeCursor, presentHistory, presentMembers, presentSegment } from './presenter.js';

const Uuid = z.uuid();
const csvBody = express.text({ type: ['text/csv', 'text/plain', 'application/csv'], limit: '50mb' });
const isCsv = (req: Request) => typeof req.body === 'string';

/** Mounted at /api/workspaces/:workspaceId. */
export function segmentRoutes(ctx: AppContext) {
  const router = express.Router({ mergeParams: true });
  const db = ctx.db;

  /** The segment named by :id in this workspace, or 404 (also for ids that are not uuids). */
  const load = async (req: Request) => {
    const id = String(req.params.id);
    const segment = Uuid.safeParse(id).success ? await getSegment(db, req.workspaceId, id) : undefined;
    if (!segment) throw notFound('Segment');
    return segment;
  };

  router.post('/segments', validate(CreateSegment), async (req, res) => {
    const segment = await createSegment(db, req.workspaceId, req.body);
    res.status(201).json(presentSegment(segment, { size: 0 }));
  });

  router.get('/segments', validateQuery(ListQuery), async (req, res) => {
    const segments = await listSegments(db, req.workspaceId, res.locals.query.status);
    res.json({ segments: segments.map((s) => presentSegment(s)) });
  });

  router.post('/segments/preview', validate(Preview), async (req, res) => {
    res.json(await previewDefinition(db, req.workspaceId, req.body.definition, ctx.clock.now(), req.body.sampleSize));
  });

  router.get('/segments/:id', async (req, res) => {
    const segment = await load(req);
    res.json(presentSegment(segment, { size: await segmentSize(db, req.workspaceId, segment) }));
  });

  router.patch('/segments/:id', validate(PatchSegment), async (req, res) => {
    const { id } = await load(req);
    const { segment, evaluation } = await patchSegment(db, req.workspaceId, id, req.body, ctx.clock.now());
    res.json(presentSegment(segment, { size: await segmentSize(db, req.workspaceId, segment), evaluation }));
  });

  router.post('/segments/:id/evaluate', async (req, res) => {
    const { id } = await load(req);
    res.json(await evaluateOnDemand(db, req.workspaceId, id, ctx.clock.now()));
  });

  router.get('/segments/:id/members', validateQuery(PageQuery), async (req, res) => {
    const segment = await load(req);
    const { limit, cursor } = res.locals.query;
    const rows = await listMembers(db, req.workspaceId, segment, limit, cursor ? decodeCursor(cursor) : undefined);
    res.json(presentMembers(rows, limit));
  });

  // JSON {userIds, mode: add|replace} or {definition, mode: add|remove}; or a CSV body (Content-Type: text/csv, ?mode=add|replace).
  router.post('/segments/:id/members', csvBody, async (req, res) => {
    const { id } = await load(req);
    const now = ctx.clock.now();
    if (isCsv(req)) {
      const { mode } = parse(ImportQuery, req.query, 'query');
      res.json(await importCsv(db, req.workspaceId, id, req.body, mode, now));
      return;
    }
    if (req.body && typeof req.body === 'object' && 'definition' in req.body) {
      const body = parse(MembersFromDefinition, req.body, 'body');
      res.json(await populateFromDefinition(db, req.workspaceId, id, body.definition, body.mode, now));
      return;
    }
    const body = parse(MembersByIds, req.body ?? {}, 'body');
    res.json(await setMembers(db, req.workspaceId, id, body.userIds, body.mode, now));
  });

  router.post('/segments/:id/members/import', csvBody, async (req, res) => {
    const { id } = await load(req);
    const { mode } = parse(ImportQuery, req.query, 'query');
    const csv = isCsv(req) ? req.body : parse(z.object({ csv: z.string() }), req.body ?? {}, 'body').csv;
    res.json(await importCsv(db, req.workspaceId, id, csv, mode, ctx.clock.now()));
  });

  router.delete('/segments/:id/members', validate(MembersRemove), async (req, res) => {
    const { id } = await load(req);
    res.json(await deleteMembers(db, req.workspaceId, id, req.body.userIds, ctx.clock.now()));
  });

  router.post('/segments/:id/subtract', validate(Subtract), async (req, res) => {
    const { id } = await load(req);
    res.json(await subtractSegment(db, req.workspaceId, id, req.body.segmentId, ctx.clock.now()));
  });

  router.get('/segments/:id/explain/:userId', async (req, res) => {
    const segment = await load(req);
    const userId = String(req.params.userId);
    const member = segment.type === 'everyone' || !!(await db('segment_members').where({ workspace_id: req.workspaceId, segment_id: segment.id, user_id: userId }).first());
    if (segment.type !== 'dynamic' || !segment.definition) {
      const exists = await db('users').where({ workspace_id: req.workspaceId, user_id: userId }).first();
      if (!exists) throw notFound('User');
      res.json({ userId, segmentId: segment.id, type: segment.type, member, matched: member, conditions: null });
      return;
    }
    const explained = await explainUser(db, segment.definition, userId, { workspaceId: req.workspaceId, now: ctx.clock.now(), segmentTypes: await segmentTypes(db, req.workspaceId) });
    if (!explained) throw notFound('User');
    res.json({ userId, segmentId: segment.id, type: segment.type, member, matched: explained.matched, conditions: explained.tree });
  });

  router.get('/segments/:id/history', validateQuery(PageQuery), async (req, res) => {
    const segment = await load(req);
    res.json(presentHistory(await sizeHistory(db, req.workspaceId, segment.id, res.locals.query.limit)));
  });

  return router;
}
