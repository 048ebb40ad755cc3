import type { AppContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { markDirty } from '../segments/dirty.js';
import { addJob } from '../outbound/queue.js';
import { checkAnswers } from './answers.js';
import type { InteractionBody, ResponseBody } from './schema.js';
import * as store from './store.js';

export type Recorded = { id: string; duplicate: false } | { id: null; duplicate: true };

async function surveyFor(ctx: AppContext, workspaceId: string, surveyId: string) {
  const survey = await store.getSurvey(ctx.db, workspaceId, surveyId);
  if (!survey) throw new HttpError(404, 'not_found', `No survey ${surveyId} in this workspace`);
  return survey;
}

/**
 * A completed survey. Answers are checked against the survey's questions, then in ONE transaction:
 * the response row (a repeated messageId stops here and changes nothing), the user (created when new;
 * first/last seen and last survey response widened), the dirty mark for the segment engine, and the
 * outbox job that pushes the response to the customer's Segment.
 */
export async function recordResponse(ctx: AppContext, workspaceId: string, body: ResponseBody): Promise<Recorded> {
  const survey = await surveyFor(ctx, workspaceId, body.surveyId);
  const checked = checkAnswers(survey.questions, body.answers);
  if (!checked.ok) {
    throw new HttpError(400, 'invalid', checked.issues.map((i) => `${i.path}: ${i.message}`).join('; '), checked.issues);
  }
  const receivedAt = ctx.clock.now();
  const completedAt = body.completedAt ?? receivedAt;
  return ctx.db.transaction(async (trx) => {
    const id = await store.insertResponse(trx, {
      workspaceId, messageId: body.messageId ?? null, surveyId: survey.id, userId: body.userId,
      answers: checked.answers, completedAt, receivedAt,
    });
    if (!id) return { id: null, duplicate: true } as const;
    const created = await store.touchUser(trx, workspaceId, body.userId, completedAt, { responded: true });
    await markDirty(trx, [{ workspace_id: workspaceId, user_id: body.userId, inputs: [...(created ? ['*'] : []), `survey:${survey.id}`, `interaction:${survey.id}`, 'attribute'] }]);
    await addJob(trx, 'segment.push-response', { workspaceId, responseId: id });
    return { id, duplicate: false } as const;
  });
}

/** A survey seen or dismissed: same shape as a response (row, user, dirty mark, push job) in one transaction. */
export async function recordInteraction(ctx: AppContext, workspaceId: string, body: InteractionBody): Promise<Recorded> {
  const survey = await surveyFor(ctx, workspaceId, body.surveyId);
  const receivedAt = ctx.clock.now();
  const at = body.at ?? receivedAt;
  return ctx.db.transaction(async (trx) => {
    const id = await store.insertInteraction(trx, {
      workspaceId, messageId: body.messageId ?? null, surveyId: survey.id, userId: body.userId, type: body.type, at, receivedAt,
    });
    if (!id) return { id: null, duplicate: true } as const;
    const created = await store.touchUser(trx, workspaceId, body.userId, at, { responded: false });
    await markDirty(trx, [{ workspace_id: workspaceId, user_id: body.userId, inputs: [...(created ? ['*'] : []), `interaction:${survey.id}`, 'attribute'] }]);
    await addJob(trx, 'segment.push-interaction', { workspaceId, interactionId: id });
    return { id, duplicate: false } as const;
  });
}
