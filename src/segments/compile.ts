import type {
  Definition, TraitCondition, AccountTraitCondition, AttributeCondition, EventCondition, PropertyFilter,
  SurveyAnswerCondition, InteractionCondition, SegmentCondition,
} from './schema.js';
import { kindOf } from './schema.js';
import { Frag, sql, join, TRUE, FALSE } from './sql.js';
import { compareJson, positiveJson, positiveTime, splitOp, daysAgo } from './compare.js';

export interface CompileContext {
  workspaceId: string;
  /** "now" for time windows: a bound value from ctx.clock, never now() in SQL. */
  now: Date;
  /** Restricts every subquery to these users (explain, populate); absent = all users. */
  userIds?: string[];
  /**
   * Restricts every subquery to the outer row's user (`= u.user_id`): the predicate is evaluated per user, each
   * subquery an index probe of that user's rows (incremental evaluation: a few users, many segments at once).
   */
  perUser?: boolean;
  /** Types of the segments this definition may reference (an `everyone` segment needs no stored list). */
  segmentTypes: ReadonlyMap<string, string>;
}

/**
 * The one compiler (DESIGN principle 2): a definition becomes a boolean SQL predicate over `users u`, never null,
 * with every value, name and id bound. Full evaluation runs it over the workspace; incremental evaluation and explain
 * run the same predicate with `userIds` set.
 */
export function compilePredicate(def: Definition, ctx: CompileContext): Frag {
  const kind = kindOf(def)!;
  switch (kind) {
    case 'all': return group((def as { all: Definition[] }).all.map((d) => compilePredicate(d, ctx)), ' and ');
    case 'any': return group((def as { any: Definition[] }).any.map((d) => compilePredicate(d, ctx)), ' or ');
    case 'not': return sql`(not ${compilePredicate((def as { not: Definition }).not, ctx)})`;
    case 'trait': return traitCondition(def as TraitCondition, ctx);
    case 'accountTrait': return accountTraitCondition(def as AccountTraitCondition, ctx);
    case 'attribute': return attributeCondition(def as AttributeCondition, ctx);
    case 'event': return eventCondition(def as EventCondition, ctx);
    case 'surveyAnswer': return surveyAnswerCondition(def as SurveyAnswerCondition, ctx);
    case 'interaction': return interactionCondition(def as InteractionCondition, ctx);
    case 'segment': return segmentCondition(def as SegmentCondition, ctx);
    default: {
      const never: never = kind;
      throw new Error(`unhandled node kind ${String(never)}`);
    }
  }
}

/** `select u.user_id from users u where ...`: the members of a definition (restricted to ctx.userIds when set). */
export function selectMatching(def: Definition, ctx: CompileContext): Frag {
  return sql`select u.user_id from users u where u.workspace_id = ${ctx.workspaceId}::uuid${onlyUsers(sql`u.user_id`, ctx)} and ${compilePredicate(def, ctx)}`;
}

function group(parts: Frag[], op: ' and ' | ' or '): Frag {
  return sql`(${join(parts, op)})`;
}

/** ` and <col> = u.user_id` (per user) or ` and <col> = any(?)` (a list of users) when the evaluation is restricted. */
function onlyUsers(col: Frag, ctx: CompileContext): Frag {
  if (ctx.perUser) return sql` and ${col} = u.user_id`;
  return ctx.userIds ? sql` and ${col} = any(${ctx.userIds}::text[])` : new Frag('', []);
}

function traitCondition(c: TraitCondition, ctx: CompileContext): Frag {
  return compareJson(sql`u.traits -> ${c.trait}`, c, ctx.now);
}

/** Any of the user's accounts has the trait value; negative operators: none of them has it. */
function accountTraitCondition(c: AccountTraitCondition, ctx: CompileContext): Frag {
  const { positive, negated } = splitOp(c.op);
  const some = sql`exists (select 1 from account_members m
      join accounts a on a.workspace_id = m.workspace_id and a.group_id = m.group_id
     where m.workspace_id = u.workspace_id and m.user_id = u.user_id
       and coalesce(${positiveJson(sql`a.traits -> ${c.accountTrait}`, positive, c, ctx.now)}, false))`;
  return negated ? sql`(not ${some})` : some;
}

const ATTRIBUTE_COLUMNS = {
  firstSeenAt: new Frag('u.first_seen_at', []),
  lastSeenAt: new Frag('u.last_seen_at', []),
  lastSurveyResponseAt: new Frag('u.last_survey_response_at', []),
} as const;

function attributeCondition(c: AttributeCondition, ctx: CompileContext): Frag {
  const col = ATTRIBUTE_COLUMNS[c.attribute];
  if (c.op === 'not_exists') return sql`(${col} is null)`;
  return sql`coalesce(${positiveTime(col, c.op, c, ctx.now)}, false)`;
}

const COUNT_OPERATORS = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

export function countTest(c: EventCondition): { op: keyof typeof COUNT_OPERATORS; value: number } {
  if (c.count) return c.count;
  if (c.performed === false) return { op: 'eq', value: 0 };
  return { op: 'gte', value: 1 };
}

export function countHolds(n: number, t: { op: keyof typeof COUNT_OPERATORS; value: number }): boolean {
  switch (t.op) {
    case 'eq': return n === t.value;
    case 'neq': return n !== t.value;
    case 'gt': return n > t.value;
    case 'gte': return n >= t.value;
    case 'lt': return n < t.value;
    case 'lte': return n <= t.value;
    default: {
      const never: never = t.op;
      throw new Error(`unhandled count op ${String(never)}`);
    }
  }
}

/**
 * Event windows are whole UTC days (the counters are per day): `withinDays: 7` is today and the 6 days before.
 * Returns the first day in the window as YYYY-MM-DD.
 */
export function windowStartDay(now: Date, withinDays: number): string {
  return daysAgo(now, Math.ceil(withinDays) - 1).toISOString().slice(0, 10);
}

function propertyFilter(f: PropertyFilter, now: Date): Frag {
  return compareJson(sql`e.properties -> ${f.property}`, f, now);
}

/**
 * Users whose number of matching events in the window satisfies the test. Counts read event_counts; `where`
 * filters need the properties, so they read events. Zero counts are handled by complement: when zero satisfies the
 * test, the user matches unless they have a non-zero count that fails it.
 */
function eventCondition(c: EventCondition, ctx: CompileContext): Frag {
  const test = countTest(c);
  const zeroMatches = countHolds(0, test);
  const cmp = new Frag(COUNT_OPERATORS[test.op], []);
  const having = (agg: Frag) => (zeroMatches ? sql`not (${agg} ${cmp} ${test.value})` : sql`${agg} ${cmp} ${test.value}`);
  let users: Frag;
  if (c.where?.length) {
    const since = c.withinDays ? sql` and e.timestamp >= ${`${windowStartDay(ctx.now, c.withinDays)}T00:00:00Z`}::timestamptz` : new Frag('', []);
    users = sql`select e.user_id from events e
      where e.workspace_id = ${ctx.workspaceId}::uuid and e.type = 'track' and e.event = ${c.event} and e.user_id is not null${since}${onlyUsers(sql`e.user_id`, ctx)}
        and ${join(c.where.map((f) => propertyFilter(f, ctx.now)), ' and ')}
      group by e.user_id having ${having(sql`count(*)`)}`;
  } else {
    const since = c.withinDays ? sql` and c.day >= ${windowStartDay(ctx.now, c.withinDays)}::date` : new Frag('', []);
    // `count > 0` (always true) lets a scan of the whole workspace use the partial event_counts_event_idx; probes of
    // given users leave it out so that only the primary key can serve them (migration 20261123910000).
    const allUsers = ctx.perUser || ctx.userIds ? new Frag('', []) : new Frag(' and c.count > 0', []);
    users = sql`select c.user_id from event_counts c
      where c.workspace_id = ${ctx.workspaceId}::uuid and c.event = ${c.event}${since}${allUsers}${onlyUsers(sql`c.user_id`, ctx)}
      group by c.user_id having ${having(sql`sum(c.count)`)}`;
  }
  return zeroMatches ? sql`(not (u.user_id in (${users})))` : sql`(u.user_id in (${users}))`;
}

/** The user's latest response to the survey has an answer to the question that satisfies the comparison. */
function surveyAnswerCondition(c: SurveyAnswerCondition, ctx: CompileContext): Frag {
  const { positive, negated } = splitOp(c.op);
  const users = sql`select x.user_id from (
      select distinct on (r.user_id) r.user_id, r.answers from survey_responses r
       where r.workspace_id = ${ctx.workspaceId}::uuid and r.survey_id = ${c.survey}::uuid${onlyUsers(sql`r.user_id`, ctx)}
       order by r.user_id, r.completed_at desc
    ) x where coalesce(${positiveJson(sql`x.answers -> ${c.question}`, positive, c, ctx.now)}, false)`;
  return negated ? sql`(not (u.user_id in (${users})))` : sql`(u.user_id in (${users}))`;
}

/** seen / dismissed read survey_interactions; completed reads survey_responses. `withinDays` counts back from now. */
function interactionCondition(c: InteractionCondition, ctx: CompileContext): Frag {
  const survey = c.survey === 'any' ? new Frag('', []) : sql` and t.survey_id = ${c.survey}::uuid`;
  const since = (col: string) => (c.withinDays ? sql` and ${new Frag(col, [])} >= ${daysAgo(ctx.now, c.withinDays).toISOString()}::timestamptz` : new Frag('', []));
  const users = c.interaction === 'completed'
    ? sql`select t.user_id from survey_responses t where t.workspace_id = ${ctx.workspaceId}::uuid${survey}${since('t.completed_at')}${onlyUsers(sql`t.user_id`, ctx)}`
    : sql`select t.user_id from survey_interactions t where t.workspace_id = ${ctx.workspaceId}::uuid and t.type = ${c.interaction}${survey}${since('t.at')}${onlyUsers(sql`t.user_id`, ctx)}`;
  return c.performed ? sql`(u.user_id in (${users}))` : sql`(not (u.user_id in (${users})))`;
}

/** Membership of another segment: every user for an `everyone` segment, else its stored members. */
function segmentCondition(c: SegmentCondition, ctx: CompileContext): Frag {
  const type = ctx.segmentTypes.get(c.segment);
  let member: Frag;
  if (type === 'everyone') member = TRUE;
  else if (!type) member = FALSE;
  else member = sql`(u.user_id in (select m.user_id from segment_members m where m.workspace_id = ${ctx.workspaceId}::uuid and m.segment_id = ${c.segment}::uuid${onlyUsers(sql`m.user_id`, ctx)}))`;
  return c.member ? member : sql`(not ${member})`;
}

/** The number of the user's matching events in the window (explain shows it as the deciding value). */
export function eventCountExpr(c: EventCondition, ctx: CompileContext): Frag {
  if (c.where?.length) {
    const since = c.withinDays ? sql` and e.timestamp >= ${`${windowStartDay(ctx.now, c.withinDays)}T00:00:00Z`}::timestamptz` : new Frag('', []);
    return sql`(select count(*) from events e where e.workspace_id = u.workspace_id and e.user_id = u.user_id and e.type = 'track' and e.event = ${c.event}${since}
      and ${join(c.where.map((f) => propertyFilter(f, ctx.now)), ' and ')})`;
  }
  const since = c.withinDays ? sql` and c.day >= ${windowStartDay(ctx.now, c.withinDays)}::date` : new Frag('', []);
  return sql`(select coalesce(sum(c.count), 0) from event_counts c where c.workspace_id = u.workspace_id and c.user_id = u.user_id and c.event = ${c.event}${since})`;
}
