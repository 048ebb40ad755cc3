import express from 'express';
import { z } from 'zod';
import type { AppContext } from '../http/context.js';
import { validate } from '../http/validate.js';
import { notFound } from '../http/errors.js';
import { createWorkspace, listWorkspaces, rotateIngestKey, updateWorkspace } from './store.js';
import { presentWorkspace } from './presenter.js';
import { forgetIngestKeys } from '../ingest/auth.js';
import { forgetWorkspace, loadWorkspaceParam } from '../http/auth.js';

const CreateWorkspace = z.object({ name: z.string().trim().min(1).max(200) });
const UpdateWorkspace = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  /** Segment Webhooks destination shared secret; null removes it. */
  webhookSecret: z.string().min(8).max(500).nullable().optional(),
  rateLimitPerSec: z.number().int().min(1).max(1_000_000).nullable().optional(),
});

/** Mounted at /api/workspaces behind requireAdmin. */
export function workspaceRoutes(ctx: AppContext) {
  const router = express.Router();
  // Param handlers are local to their router: resolve :workspaceId here too (unknown id → 404).
  loadWorkspaceParam(ctx, router);

  router.post('/', validate(CreateWorkspace), async (req, res) => {
    const { workspace, ingestKey } = await createWorkspace(ctx.db, req.body.name);
    res.status(201).json({ ...presentWorkspace(workspace), ingestKey });
  });

  router.get('/', async (_req, res) => {
    res.json({ workspaces: (await listWorkspaces(ctx.db)).map(presentWorkspace) });
  });

  router.get('/:workspaceId', (req, res) => {
    res.json(presentWorkspace(req.workspace!));
  });

  router.patch('/:workspaceId', validate(UpdateWorkspace), async (req, res) => {
    const b = req.body as z.infer<typeof UpdateWorkspace>;
    const row = await updateWorkspace(ctx.db, req.workspaceId, {
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.webhookSecret !== undefined ? { webhook_secret_enc: b.webhookSecret === null ? null : ctx.secrets.encrypt(b.webhookSecret) } : {}),
      ...(b.rateLimitPerSec !== undefined ? { rate_limit_per_sec: b.rateLimitPerSec } : {}),
    });
    if (!row) throw notFound('Workspace');
    forgetIngestKeys(req.workspaceId);
    forgetWorkspace(req.workspaceId);
    res.json(presentWorkspace(row));
  });

  router.post('/:workspaceId/ingest-key/rotate', async (req, res) => {
    const ingestKey = await rotateIngestKey(ctx.db, req.workspaceId);
    if (!ingestKey) throw notFound('Workspace');
    forgetIngestKeys(req.workspaceId);
    forgetWorkspace(req.workspaceId);
    res.json({ ingestKey });
  });

  return router;
}
