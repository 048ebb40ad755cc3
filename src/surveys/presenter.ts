import type { ResponseRow, SurveyRow } from './store.js';

export function presentSurvey(s: SurveyRow) {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    questions: s.questions,
    audienceId: s.audience_id,
    createdAt: s.created_at,
    updatedAt: s.updated_at,
  };
}

export function presentResponse(r: ResponseRow) {
  return { id: r.id, userId: r.user_id, surveyId: r.survey_id, answers: r.answers, completedAt: r.completed_at, receivedAt: r.received_at };
}
