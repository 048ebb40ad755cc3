import { z } from 'zod';
import { CronExpressionParser } from 'cron-parser';

/** CONTRACT §3: segment definitions. Types come from these schemas (z.infer), never written twice. */

export const SCALAR_OPS = ['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'ends_with', 'gt', 'gte', 'lt', 'lte'] as const;
export const DATE_OPS = ['before', 'after'] as const;
export const WINDOW_OPS = ['within_last', 'more_than_ago'] as const;
export const PRESENCE_OPS = ['exists', 'not_exists'] as const;
export const COUNT_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'] as const;

const Scalar = z.union([z.string().max(1000), z.number().finite(), z.boolean()]);
const IsoDate = z.string().refine((s) => isIsoInstant(s), { message: 'Expected an ISO 8601 date (YYYY-MM-DD or a date-time)' });
const Days = z.number().positive().max(36500);

/** `2024-05-01` (00:00 UTC) or a full ISO date-time. */
export function isIsoInstant(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/i.test(s) && !Number.isNaN(parseInstant(s).getTime());
}
/** A date alone means 00:00 UTC; a date-time without an offset is UTC too. */
export function parseInstant(s: string): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return new Date(`${s}T00:00:00Z`);
  if (!/(Z|[+-]\d{2}(:?\d{2})?)$/i.test(s.slice(10))) return new Date(`${s.replace(' ', 'T')}Z`);
  return new Date(s);
}
export const isNumeric = (v: unknown): boolean => typeof v === 'number' || (typeof v === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?\s*$/.test(v));

/**
 * A comparison of one value (trait, account trait, event property, survey answer). The operator decides which
 * other fields are required; refinements name the field that is wrong.
 */
const Comparison = z
  .object({
    op: z.enum([...SCALAR_OPS, ...DATE_OPS, ...WINDOW_OPS, ...PRESENCE_OPS]),
    value: z.union([Scalar, z.array(Scalar).min(1).max(1000)]).optional(),
    days: Days.optional(),
  })
  .superRefine((c, ctx) => {
    const need = (ok: boolean, message: string, path: string) => { if (!ok) ctx.addIssue({ code: 'custom', message, path: [path] }); };
    switch (c.op) {
      case 'exists': case 'not_exists':
        need(c.value === undefined, `${c.op} takes no value`, 'value'); break;
      case 'in': case 'not_in':
        need(Array.isArray(c.value), `${c.op} needs an array value`, 'value'); break;
      case 'eq': case 'neq':
        need(c.value !== undefined && !Array.isArray(c.value), `${c.op} needs a string, number or boolean value`, 'value'); break;
      case 'contains': case 'not_contains': case 'starts_with': case 'ends_with':
        need(typeof c.value === 'string' && c.value.length > 0, `${c.op} needs a non-empty string value`, 'value'); break;
      case 'gt': case 'gte': case 'lt': case 'lte':
        need(isNumeric(c.value) || (typeof c.value === 'string' && isIsoInstant(c.value)), `${c.op} needs a number (or an ISO date)`, 'value'); break;
      case 'before': case 'after':
        need(typeof c.value === 'string' && isIsoInstant(c.value), `${c.op} needs an ISO date value`, 'value'); break;
      case 'within_last': case 'more_than_ago':
        need(c.days !== undefined, `${c.op} needs days`, 'days'); break;
      default: {
        const never: never = c.op;
        throw new Error(`unhandled op ${never}`);
      }
    }
  });
export type Comparison = z.infer<typeof Comparison>;

const Name = z.string().min(1).max(200);
const SurveyId = z.uuid();

export const TraitCondition = z.object({ trait: Name }).and(Comparison);
export const AccountTraitCondition = z.object({ accountTrait: Name }).and(Comparison);
export const AttributeCondition = z.strictObject({
  attribute: z.enum(['firstSeenAt', 'lastSeenAt', 'lastSurveyResponseAt']),
  op: z.enum([...DATE_OPS, ...WINDOW_OPS, ...PRESENCE_OPS]),
  value: IsoDate.optional(),
  days: Days.optional(),
}).superRefine((c, ctx) => {
  if ((c.op === 'before' || c.op === 'after') && c.value === undefined) ctx.addIssue({ code: 'custom', message: `${c.op} needs an ISO date value`, path: ['value'] });
  if ((c.op === 'within_last' || c.op === 'more_than_ago') && c.days === undefined) ctx.addIssue({ code: 'custom', message: `${c.op} needs days`, path: ['days'] });
});
export const PropertyFilter = z.object({ property: Name }).and(Comparison);
export const EventCondition = z.strictObject({
  event: Name,
  count: z.strictObject({ op: z.enum(COUNT_OPS), value: z.number().int().min(0) }).optional(),
  performed: z.boolean().optional(),
  withinDays: Days.optional(),
  where: z.array(PropertyFilter).max(20).optional(),
}).refine((c) => !(c.count && c.performed !== undefined), { message: 'Give either count or performed, not both', path: ['performed'] });
export const SurveyAnswerCondition = z.object({ survey: SurveyId, question: Name }).and(Comparison);
export const InteractionCondition = z.strictObject({
  survey: z.union([SurveyId, z.literal('any')]),
  interaction: z.enum(['seen', 'completed', 'dismissed']),
  performed: z.boolean().default(true),
  withinDays: Days.optional(),
});
export const SegmentCondition = z.strictObject({ segment: z.uuid(), member: z.boolean().default(true) });

export type TraitCondition = z.infer<typeof TraitCondition>;
export type AccountTraitCondition = z.infer<typeof AccountTraitCondition>;
export type AttributeCondition = z.infer<typeof AttributeCondition>;
export type PropertyFilter = z.infer<typeof PropertyFilter>;
export type EventCondition = z.infer<typeof EventCondition>;
export type SurveyAnswerCondition = z.infer<typeof SurveyAnswerCondition>;
export type InteractionCondition = z.infer<typeof InteractionCondition>;
export type SegmentCondition = z.infer<typeof SegmentCondition>;

export type Definition =
  | { all: Definition[] }
  | { any: Definition[] }
  | { not: Definition }
  | TraitCondition
  | AccountTraitCondition
  | AttributeCondition
  | EventCondition
  | SurveyAnswerCondition
  | InteractionCondition
  | SegmentCondition;

/** The kind of a node, decided by its distinguishing key; the compiler, explainer and dependency walker switch on it. */
export type NodeKind = 'all' | 'any' | 'not' | 'trait' | 'accountTrait' | 'attribute' | 'event' | 'surveyAnswer' | 'interaction' | 'segment';

export function kindOf(node: object): NodeKind | undefined {
  if ('all' in node) return 'all';
  if ('any' in node) return 'any';
  if ('not' in node) return 'not';
  if ('trait' in node) return 'trait';
  if ('accountTrait' in node) return 'accountTrait';
  if ('attribute' in node) return 'attribute';
  if ('event' in node) return 'event';
  if ('interaction' in node) return 'interaction';
  if ('survey' in node) return 'surveyAnswer';
  if ('segment' in node) return 'segment';
  return undefined;
}

const MAX_DEPTH = 12;

export interface DefinitionIssue { path: string; message: string }

/**
 * Validates a definition tree node by node, so the error names the offending node's path
 * (e.g. `definition.all.1.any.0.value`). Returns the parsed tree (defaults applied) or the issues.
 */
export function parseDefinition(input: unknown, path = 'definition', depth = 0): { ok: true; value: Definition } | { ok: false; issues: DefinitionIssue[] } {
  const fail = (message: string, at = path) => ({ ok: false as const, issues: [{ path: at, message }] });
  if (depth > MAX_DEPTH) return fail(`Definitions nest at most ${MAX_DEPTH} levels`);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return fail('Expected a group ({all}, {any}, {not}) or a condition object');
  const kind = kindOf(input);
  if (!kind) return fail('Unknown node: expected all, any, not, trait, accountTrait, attribute, event, survey or segment');
  const groupOf = (key: 'all' | 'any') => {
    const list = (input as Record<string, unknown>)[key];
    if (Object.keys(input).length !== 1) return fail(`A group has only the key "${key}"`);
    if (!Array.isArray(list) || list.length === 0) return fail(`"${key}" needs a non-empty array`, `${path}.${key}`);
    if (list.length > 200) return fail(`"${key}" has at most 200 nodes`, `${path}.${key}`);
    const out: Definition[] = [];
    const issues: DefinitionIssue[] = [];
    list.forEach((child, i) => {
      const r = parseDefinition(child, `${path}.${key}.${i}`, depth + 1);
      if (r.ok) out.push(r.value);
      else issues.push(...r.issues);
    });
    return issues.length ? { ok: false as const, issues } : { ok: true as const, value: (key === 'all' ? { all: out } : { any: out }) as Definition };
  };
  const leaf = (schema: z.ZodType) => {
    const r = schema.safeParse(input);
    if (r.success) return { ok: true as const, value: r.data as Definition };
    return { ok: false as const, issues: r.error.issues.map((i) => ({ path: [path, ...i.path.map(String)].join('.'), message: i.message })) };
  };
  switch (kind) {
    case 'all': return groupOf('all');
    case 'any': return groupOf('any');
    case 'not': {
      if (Object.keys(input).length !== 1) return fail('A group has only the key "not"');
      const r = parseDefinition((input as { not: unknown }).not, `${path}.not`, depth + 1);
      return r.ok ? { ok: true, value: { not: r.value } } : r;
    }
    case 'trait': return leaf(TraitCondition);
    case 'accountTrait': return leaf(AccountTraitCondition);
    case 'attribute': return leaf(AttributeCondition);
    case 'event': return leaf(EventCondition);
    case 'surveyAnswer': return leaf(SurveyAnswerCondition);
    case 'interaction': return leaf(InteractionCondition);
    case 'segment': return leaf(SegmentCondition);
    default: {
      const never: never = kind;
      return fail(`Unknown node ${String(never)}`);
    }
  }
}

/** zod wrapper so request schemas can embed a definition and still name the bad node. */
export const DefinitionSchema = z.unknown().transform((v, ctx) => {
  const r = parseDefinition(v, '');
  if (r.ok) return r.value;
  for (const i of r.issues) ctx.addIssue({ code: 'custom', message: i.message, path: i.path.split('.').filter(Boolean) });
  return z.NEVER;
});

export const Schedule = z.strictObject({
  cron: z.string().min(1).max(100),
  timezone: z.string().default('UTC'),
}).superRefine((s, ctx) => {
  try { Intl.DateTimeFormat('en', { timeZone: s.timezone }); } catch { ctx.addIssue({ code: 'custom', message: 'Unknown time zone', path: ['timezone'] }); return; }
  try { CronExpressionParser.parse(s.cron, { tz: s.timezone }); } catch (e) { ctx.addIssue({ code: 'custom', message: `Invalid cron expression: ${(e as Error).message}`, path: ['cron'] }); }
});
export type Schedule = z.infer<typeof Schedule>;

export const SEGMENT_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type SegmentStatus = (typeof SEGMENT_STATUSES)[number];

export const CreateSegment = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullish(),
  type: z.enum(['dynamic', 'static', 'everyone']),
  definition: DefinitionSchema.optional(),
  schedule: Schedule.nullish(),
});
export type CreateSegment = z.infer<typeof CreateSegment>;

export const PatchSegment = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).nullish(),
  definition: DefinitionSchema.optional(),
  schedule: Schedule.nullish(),
  status: z.enum(SEGMENT_STATUSES).optional(),
});
export type PatchSegment = z.infer<typeof PatchSegment>;

export const ListQuery = z.object({ status: z.enum(SEGMENT_STATUSES).optional() });
export const PageQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), cursor: z.string().max(400).optional() });
export const UserIdList = z.array(z.string().min(1).max(400)).max(100_000);
export const MembersByIds = z.strictObject({ userIds: UserIdList, mode: z.enum(['add', 'replace']).default('add') });
export const MembersFromDefinition = z.strictObject({ definition: DefinitionSchema, mode: z.enum(['add', 'remove']) });
export const MembersRemove = z.strictObject({ userIds: UserIdList });
export const Subtract = z.strictObject({ segmentId: z.uuid() });
export const Preview = z.strictObject({ definition: DefinitionSchema, sampleSize: z.coerce.number().int().min(0).max(100).default(10) });
export const ImportQuery = z.object({ mode: z.enum(['add', 'replace']).default('add') });
