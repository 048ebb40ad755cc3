import type { Db } from '../db/types.js';
import { HttpError, notFound } from '../http/errors.js';
import type { Question, ResponsesQuery, SummaryQuery } from './schema.js';
import * as store from './store.js';
import { requireSurvey } from './surveys.js';

/** The cursor is opaque to clients: base64url of "<completed_at epoch µs>.<response id>". */
export function encodeCursor(row: store.ResponseRow) {
  return Buffer.from(`${row.at_us}.${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string) {
  const m = /^(-?\d{1,20})\.([0-9a-f-]{36})$/i.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new HttpError(400, 'invalid', 'Invalid query: cursor: not a cursor from a previous page', [{ path: 'cursor', message: 'not a cursor from a previous page' }]);
  return { us: m[1], id: m[2] };
}

/** segmentId filters by that segment's members at read time (`everyone` = every known user). */
async function segmentFilter(db: Db, workspaceId: string, segmentId?: string) {
  if (!segmentId) return undefined;
  const segment = await store.getSegmentRef(db, workspaceId, segmentId);
  if (!segment) throw notFound('Segment');
  return { id: segment.id, everyone: segment.type === 'everyone' };
}

export async function listResponsesPage(db: Db, workspaceId: string, q: ResponsesQuery) {
  if (q.surveyId) await requireSurvey(db, workspaceId, q.surveyId);
  const segment = await segmentFilter(db, workspaceId, q.segmentId);
  const after = q.cursor ? decodeCursor(q.cursor) : undefined;
  const rows = await store.listResponses(db, workspaceId, { surveyId: q.surveyId, segment, from: q.from, to: q.to }, { limit: q.limit + 1, after });
  const page = rows.slice(0, q.limit);
  return { rows: page, nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]) : null };
}

export type Distribution =
  | { type: 'nps' | 'rating'; answered: number; average: number | null; counts: Record<string, number> }
  | { type: 'single_choice' | 'multiple_choice'; answered: number; counts: Record<string, number> }
  | { type: 'text'; answered: number };

export interface NpsSummary { questionId: string; score: number | null; promoters: number; passives: number; detractors: number }

const round1 = (x: number) => Math.round(x * 10) / 10;

function distribution(q: Question, answered: number, values: { value: unknown; count: number }[]): Distribution {
  switch (q.type) {
    case 'nps':
    case 'rating': {
      const [lo, hi] = q.type === 'nps' ? [0, 10] : [q.scale.min, q.scale.max];
      const counts: Record<string, number> = {};
      for (let v = lo; v <= hi; v++) counts[String(v)] = 0;
      let sum = 0;
      let n = 0;
      for (const { value, count } of values) {
        if (typeof value !== 'number') continue;
        counts[String(value)] = (counts[String(value)] ?? 0) + count;
        sum += value * count;
        n += count;
      }
      return { type: q.type, answered, average: n ? round1(sum / n) : null, counts };
    }
    case 'single_choice':
    case 'multiple_choice': {
      const counts: Record<string, number> = Object.fromEntries(q.choices.map((c) => [c, 0]));
      for (const { value, count } of values) if (typeof value === 'string') counts[value] = (counts[value] ?? 0) + count;
      return { type: q.type, answered, counts };
    }
    case 'text':
      return { type: 'text', answered };
    default: {
      const never: never = q;
      throw new Error(`unknown question type ${(never as { type: string }).type}`);
    }
  }
}

/** Promoters answer 9–10, passives 7–8, detractors 0–6; score = % promoters − % detractors (one decimal). */
export function npsOf(questionId: string, counts: Record<string, number>): NpsSummary {
  let promoters = 0, passives = 0, detractors = 0;
  for (const [v, n] of Object.entries(counts)) {
    const x = Number(v);
    if (x >= 9) promoters += n; else if (x >= 7) passives += n; else detractors += n;
  }
  const total = promoters + passives + detractors;
  return { questionId, score: total ? round1(((promoters - detractors) / total) * 100) : null, promoters, passives, detractors };
}

/** Count, per-question distributions and the NPS split for the survey's (first) NPS question. */
export async function summarizeSurvey(db: Db, workspaceId: string, surveyId: string, q: SummaryQuery) {
  const survey = await requireSurvey(db, workspaceId, surveyId);
  const segment = await segmentFilter(db, workspaceId, q.segmentId);
  const withValues = survey.questions.filter((x) => x.type !== 'text').map((x) => x.id);
  const rows = await store.summarizeResponses(db, workspaceId, { surveyId: survey.id, segment, from: q.from, to: q.to }, withValues);
  const questions: Record<string, Distribution> = {};
  for (const question of survey.questions) {
    questions[question.id] = distribution(question, rows.answered.get(question.id) ?? 0, rows.values.get(question.id) ?? []);
  }
  const npsQuestion = survey.questions.find((x) => x.type === 'nps');
  const npsDist = npsQuestion ? questions[npsQuestion.id] : undefined;
  return {
    surveyId: survey.id,
    segmentId: segment?.id ?? null,
    count: rows.count,
    questions,
    ...(npsQuestion && npsDist && 'counts' in npsDist ? { nps: npsOf(npsQuestion.id, npsDist.counts) } : {}),
  };
}
