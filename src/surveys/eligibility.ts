import type { Db } from '../db/types.js';
import { checkUser } from '../audiences/audiences.js';
import { requireSurvey } from './surveys.js';

/**
 * Should this survey be shown to this user? The survey must be active, and the user in its audience
 * (a survey without an audience targets everyone, including users we have not heard of yet).
 */
export async function surveyEligibility(db: Db, workspaceId: string, surveyId: string, userId: string) {
  const survey = await requireSurvey(db, workspaceId, surveyId);
  const active = survey.status === 'active';
  if (!survey.audience_id) return { surveyId: survey.id, audienceId: null, surveyStatus: survey.status, eligible: active, reasons: [] };
  const result = await checkUser(db, workspaceId, survey.audience_id, userId);
  return { surveyId: survey.id, audienceId: survey.audience_id, surveyStatus: survey.status, eligible: active && result.eligible, reasons: result.reasons };
}
