import type { Db } from '../db/types.js';
import { HttpError, notFound } from '../http/errors.js';
import { isUuid } from '../http/auth.js';
import { audienceExists } from '../audiences/store.js';
import type { CreateSurvey, UpdateSurvey } from './schema.js';
import * as store from './store.js';

async function assertAudience(db: Db, workspaceId: string, audienceId: string) {
  if (!(await audienceExists(db, workspaceId, audienceId))) {
    throw new HttpError(400, 'invalid', 'Invalid body: audienceId: no audience with this id in the workspace', [
      { path: 'audienceId', message: 'no audience with this id in the workspace' },
    ]);
  }
}

export async function createSurvey(db: Db, workspaceId: string, input: CreateSurvey) {
  if (input.audienceId) await assertAudience(db, workspaceId, input.audienceId);
  return store.insertSurvey(db, workspaceId, { name: input.name, status: input.status, questions: input.questions, audienceId: input.audienceId ?? null });
}

/** The survey, or a 404 (an id from another workspace is simply not found). */
export async function requireSurvey(db: Db, workspaceId: string, id: string) {
  const survey = isUuid(id) ? await store.getSurvey(db, workspaceId, id) : undefined;
  if (!survey) throw notFound('Survey');
  return survey;
}

export async function updateSurvey(db: Db, workspaceId: string, id: string, patch: UpdateSurvey) {
  await requireSurvey(db, workspaceId, id);
  if (patch.audienceId) await assertAudience(db, workspaceId, patch.audienceId);
  const row = await store.updateSurvey(db, workspaceId, id, {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.status !== undefined ? { status: patch.status } : {}),
    ...(patch.questions !== undefined ? { questions: patch.questions } : {}),
    ...(patch.audienceId !== undefined ? { audience_id: patch.audienceId } : {}),
  });
  if (!row) throw notFound('Survey');
  return row;
}

export const listSurveys = store.listSurveys;
