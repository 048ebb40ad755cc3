import { TEXT_ANSWER_MAX, type Question } from './schema.js';

export interface AnswerIssue { path: string; message: string }

function checkAnswer(q: Question, v: unknown): string | null {
  switch (q.type) {
    case 'nps':
      return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 10 ? null : 'an NPS answer is an integer from 0 to 10';
    case 'rating': {
      const { min, max } = q.scale;
      return Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : `a rating is an integer from ${min} to ${max}`;
    }
    case 'single_choice':
      return typeof v === 'string' && q.choices.includes(v) ? null : `must be one of: ${q.choices.join(', ')}`;
    case 'multiple_choice': {
      if (!Array.isArray(v) || !v.every((c) => typeof c === 'string' && q.choices.includes(c))) {
        return `must be a list of choices from: ${q.choices.join(', ')}`;
      }
      return new Set(v).size === v.length ? null : 'a choice is listed twice';
    }
    case 'text': {
      const max = q.maxLength ?? TEXT_ANSWER_MAX;
      if (typeof v !== 'string') return 'a text answer is a string';
      return v.length <= max ? null : `a text answer is at most ${max} characters`;
    }
    default: {
      const never: never = q;
      return `unknown question type ${(never as { type: string }).type}`;
    }
  }
}

/**
 * Checks answers ({questionId: value}) against the survey's questions: every answer must fit its
 * question, unknown question ids are rejected, required questions must be answered. `null` means
 * "skipped" and is dropped. Returns the answers to store, or the issues.
 */
export function checkAnswers(questions: Question[], answers: Record<string, unknown>):
  { ok: true; answers: Record<string, unknown> } | { ok: false; issues: AnswerIssue[] } {
  const byId = new Map(questions.map((q) => [q.id, q]));
  const issues: AnswerIssue[] = [];
  const kept: Record<string, unknown> = Object.create(null);
  for (const [id, value] of Object.entries(answers)) {
    const q = byId.get(id);
    if (!q) {
      issues.push({ path: `answers.${id}`, message: 'no question with this id in the survey' });
      continue;
    }
    if (value === null || value === undefined) continue;
    const problem = checkAnswer(q, value);
    if (problem) issues.push({ path: `answers.${id}`, message: problem });
    else kept[id] = value;
  }
  for (const q of questions) {
    if (q.required && kept[q.id] === undefined && !issues.some((i) => i.path === `answers.${q.id}`)) {
      issues.push({ path: `answers.${q.id}`, message: 'this question is required' });
    }
  }
  if (!issues.length && !Object.keys(kept).length) issues.push({ path: 'answers', message: 'a response needs at least one answer' });
  return issues.length ? { ok: false, issues } : { ok: true, answers: { ...kept } };
}
