import { z } from 'zod';
import { Instant } from '../lib/instant.js';

export const QUESTION_TYPES = ['nps', 'rating', 'single_choice', 'multiple_choice', 'text'] as const;
export const SURVEY_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export const TEXT_ANSWER_MAX = 5000;

const QuestionId = z.string().trim().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : - only');
const Label = z.string().trim().min(1).max(1000);
const Choices = z.array(z.string().trim().min(1).max(200)).min(1).max(100)
  .refine((c) => new Set(c).size === c.length, { message: 'choices must be unique' });

const base = { id: QuestionId, label: Label, required: z.boolean().optional() };

export const Question = z.discriminatedUnion('type', [
  z.strictObject({ ...base, type: z.literal('nps') }),
  z.strictObject({
    ...base,
    type: z.literal('rating'),
    scale: z.strictObject({ min: z.number().int().min(-100).max(100), max: z.number().int().min(-100).max(100) })
      .refine((s) => s.min < s.max, { message: 'scale.min must be below scale.max' })
      .default({ min: 1, max: 5 }),
  }),
  z.strictObject({ ...base, type: z.literal('single_choice'), choices: Choices }),
  z.strictObject({ ...base, type: z.literal('multiple_choice'), choices: Choices }),
  z.strictObject({ ...base, type: z.literal('text'), maxLength: z.number().int().min(1).max(TEXT_ANSWER_MAX).optional() }),
]);
export type Question = z.infer<typeof Question>;

const Questions = z.array(Question).min(1).max(100)
  .refine((qs) => new Set(qs.map((q) => q.id)).size === qs.length, { message: 'question ids must be unique' });

const AudienceId = z.uuid({ message: 'must be an audience id' });

export const CreateSurvey = z.strictObject({
  name: z.string().trim().min(1).max(200),
  status: z.enum(SURVEY_STATUSES).default('active'),
  questions: Questions,
  audienceId: AudienceId.nullish(),
});
export type CreateSurvey = z.infer<typeof CreateSurvey>;

export const UpdateSurvey = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  status: z.enum(SURVEY_STATUSES).optional(),
  questions: Questions.optional(),
  audienceId: AudienceId.nullable().optional(),
});
export type UpdateSurvey = z.infer<typeof UpdateSurvey>;

export const ListSurveysQuery = z.object({ status: z.enum(SURVEY_STATUSES).optional() });

const UserId = z.union([z.string().trim().min(1).max(255), z.number().finite()]).transform(String);
const MessageId = z.string().min(1).max(100);

/** POST /v1/responses (answers are checked against the survey's questions afterwards). */
export const ResponseBody = z.looseObject({
  userId: UserId,
  surveyId: z.uuid({ message: 'must be a survey id' }),
  answers: z.record(z.string(), z.unknown()),
  completedAt: Instant.nullish(),
  messageId: MessageId.nullish(),
});
export type ResponseBody = z.infer<typeof ResponseBody>;

/** POST /v1/interactions. */
export const InteractionBody = z.looseObject({
  userId: UserId,
  surveyId: z.uuid({ message: 'must be a survey id' }),
  type: z.enum(['seen', 'dismissed']),
  at: Instant.nullish(),
  messageId: MessageId.nullish(),
});
export type InteractionBody = z.infer<typeof InteractionBody>;

const Uuid = z.uuid();
export const ResponsesQuery = z.object({
  surveyId: Uuid.optional(),
  segmentId: Uuid.optional(),
  from: Instant.optional(),
  to: Instant.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});
export type ResponsesQuery = z.infer<typeof ResponsesQuery>;

export const SummaryQuery = z.object({
  segmentId: Uuid.optional(),
  from: Instant.optional(),
  to: Instant.optional(),
});
export type SummaryQuery = z.infer<typeof SummaryQuery>;
