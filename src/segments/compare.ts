import type { Comparison } from './schema.js';
import { isIsoInstant, isNumeric, parseInstant } from './schema.js';
import { Frag, sql, join, FALSE } from './sql.js';

/** Operators that are the complement of a positive one: an absent value matches them. */
const NEGATIONS = { neq: 'eq', not_in: 'in', not_contains: 'contains', not_exists: 'exists' } as const;
type NegativeOp = keyof typeof NEGATIONS;
export type PositiveOp = Exclude<Comparison['op'], NegativeOp>;

export function splitOp(op: Comparison['op']): { positive: PositiveOp; negated: boolean } {
  if (op in NEGATIONS) return { positive: NEGATIONS[op as NegativeOp], negated: true };
  return { positive: op as PositiveOp, negated: false };
}

const DAY_MS = 86_400_000;
export const daysAgo = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);

type Scalar = string | number | boolean;

/** Equality of a JSON value with one scalar, by the scalar's type: numbers and dates by value, booleans, strings case-insensitively. */
function equals(v: Frag, value: Scalar): Frag {
  if (typeof value === 'boolean') return sql`ag_bool(${v}) = ${value}`;
  if (isNumeric(value)) {
    const n = Number(value);
    return typeof value === 'number' ? sql`ag_num(${v}) = ${n}` : sql`(ag_num(${v}) = ${n} or lower(ag_text(${v})) = lower(${value}))`;
  }
  if (typeof value === 'string' && isIsoInstant(value)) return sql`(ag_ts(${v}) = ${parseInstant(value).toISOString()}::timestamptz or lower(ag_text(${v})) = lower(${value}))`;
  return sql`lower(ag_text(${v})) = lower(${value})`;
}

/** A string test on a scalar, or on any element of an array value (tags, multiple-choice answers). */
function textTest(v: Frag, test: (x: Frag) => Frag): Frag {
  return sql`(case when jsonb_typeof(${v}) = 'array'
      then exists (select 1 from jsonb_array_elements(${v}) el where ${test(sql`lower(ag_text(el))`)})
      else ${test(sql`lower(ag_text(${v}))`)} end)`;
}

function ordered(v: Frag, cmp: '>' | '>=' | '<' | '<=', value: Scalar | Scalar[] | undefined): Frag {
  const op = new Frag(cmp, []); // one of four fixed operators, never input
  if (isNumeric(value)) return sql`ag_num(${v}) ${op} ${Number(value)}`;
  if (typeof value === 'string' && isIsoInstant(value)) return sql`ag_ts(${v}) ${op} ${parseInstant(value).toISOString()}::timestamptz`;
  return FALSE;
}

/**
 * The positive form of a comparison on a jsonb expression (null when the value is absent or of the wrong type;
 * callers wrap in coalesce). Negative operators are compiled by callers as `not (positive)`, so an absent value
 * matches exactly neq / not_in / not_contains / not_exists.
 */
export function positiveJson(v: Frag, op: PositiveOp, c: Comparison, now: Date): Frag {
  const value = c.value;
  switch (op) {
    case 'exists': return sql`(${v} is not null and jsonb_typeof(${v}) <> 'null')`;
    case 'eq': return equals(v, value as Scalar);
    case 'in': return inList(v, value as Scalar[]);
    case 'contains': return textTest(v, (x) => sql`strpos(${x}, lower(${value as string})) > 0`);
    case 'starts_with': return textTest(v, (x) => sql`starts_with(${x}, lower(${value as string}))`);
    case 'ends_with': return textTest(v, (x) => sql`right(${x}, char_length(${value as string})) = lower(${value as string})`);
    case 'gt': return ordered(v, '>', value);
    case 'gte': return ordered(v, '>=', value);
    case 'lt': return ordered(v, '<', value);
    case 'lte': return ordered(v, '<=', value);
    case 'before': return sql`ag_ts(${v}) < ${parseInstant(value as string).toISOString()}::timestamptz`;
    case 'after': return sql`ag_ts(${v}) > ${parseInstant(value as string).toISOString()}::timestamptz`;
    case 'within_last': return sql`ag_ts(${v}) >= ${daysAgo(now, c.days!).toISOString()}::timestamptz`;
    case 'more_than_ago': return sql`ag_ts(${v}) < ${daysAgo(now, c.days!).toISOString()}::timestamptz`;
    default: {
      const never: never = op;
      throw new Error(`unhandled op ${String(never)}`);
    }
  }
}

function inList(v: Frag, values: Scalar[]): Frag {
  return sql`(${join(values.map((x) => sql`coalesce(${equals(v, x)}, false)`), ' or ')})`;
}

/** A full comparison (positive or negative) on a jsonb expression, always true or false, never null. */
export function compareJson(v: Frag, c: Comparison, now: Date): Frag {
  const { positive, negated } = splitOp(c.op);
  const p = sql`coalesce(${positiveJson(v, positive, c, now)}, false)`;
  return negated ? sql`not ${p}` : p;
}

/** The positive form of a comparison on a timestamptz column (attributes). */
export function positiveTime(col: Frag, op: 'exists' | 'before' | 'after' | 'within_last' | 'more_than_ago', c: { value?: string; days?: number }, now: Date): Frag {
  switch (op) {
    case 'exists': return sql`${col} is not null`;
    case 'before': return sql`${col} < ${parseInstant(c.value!).toISOString()}::timestamptz`;
    case 'after': return sql`${col} > ${parseInstant(c.value!).toISOString()}::timestamptz`;
    case 'within_last': return sql`${col} >= ${daysAgo(now, c.days!).toISOString()}::timestamptz`;
    case 'more_than_ago': return sql`${col} < ${daysAgo(now, c.days!).toISOString()}::timestamptz`;
    default: {
      const never: never = op;
      throw new Error(`unhandled op ${String(never)}`);
    }
  }
}
