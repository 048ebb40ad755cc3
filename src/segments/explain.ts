import type { Db } from '../db/types.js';
import type { Definition, TraitCondition, AccountTraitCondition, AttributeCondition, EventCondition, SurveyAnswerCondition, InteractionCondition, SegmentCondition } from './schema.js';
import { kindOf } from './schema.js';
import { compilePredicate, eventCountExpr, countTest, type CompileContext } from './compile.js';
import { daysAgo } from './compare.js';
import { Frag, sql, join, rowsOf } from './sql.js';

export type Explanation =
  | { path: string; group: 'all' | 'any' | 'not'; result: boolean; children: Explanation[] }
  | { path: string; condition: Definition; result: boolean; value: unknown };

interface Leaf { path: string; node: Definition }

function leaves(def: Definition, path: string, out: Leaf[]): Leaf[] {
  const kind = kindOf(def)!;
  switch (kind) {
    case 'all': (def as { all: Definition[] }).all.forEach((d, i) => leaves(d, `${path}.all.${i}`, out)); break;
    case 'any': (def as { any: Definition[] }).any.forEach((d, i) => leaves(d, `${path}.any.${i}`, out)); break;
    case 'not': leaves((def as { not: Definition }).not, `${path}.not`, out); break;
    case 'trait': case 'accountTrait': case 'attribute': case 'event': case 'surveyAnswer': case 'interaction': case 'segment':
      out.push({ path, node: def }); break;
    default: {
      const never: never = kind;
      throw new Error(`unhandled node kind ${String(never)}`);
    }
  }
  return out;
}

const ATTRIBUTE_COLUMNS = { firstSeenAt: 'u.first_seen_at', lastSeenAt: 'u.last_seen_at', lastSurveyResponseAt: 'u.last_survey_response_at' } as const;

/** The value that decided a condition for the user: the trait, the event count in the window, the answer... */
function decidingValue(node: Definition, ctx: CompileContext): Frag {
  const kind = kindOf(node)!;
  switch (kind) {
    case 'trait': return sql`u.traits -> ${(node as TraitCondition).trait}`;
    case 'accountTrait': return sql`(select jsonb_agg(a.traits -> ${(node as AccountTraitCondition).accountTrait} order by a.group_id) from account_members m
        join accounts a on a.workspace_id = m.workspace_id and a.group_id = m.group_id where m.workspace_id = u.workspace_id and m.user_id = u.user_id)`;
    case 'attribute': return new Frag(ATTRIBUTE_COLUMNS[(node as AttributeCondition).attribute], []);
    case 'event': return eventCountExpr(node as EventCondition, ctx);
    case 'surveyAnswer': {
      const c = node as SurveyAnswerCondition;
      return sql`(select r.answers -> ${c.question} from survey_responses r where r.workspace_id = u.workspace_id and r.user_id = u.user_id and r.survey_id = ${c.survey}::uuid order by r.completed_at desc limit 1)`;
    }
    case 'interaction': {
      const c = node as InteractionCondition;
      const survey = c.survey === 'any' ? new Frag('', []) : sql` and t.survey_id = ${c.survey}::uuid`;
      const since = c.withinDays ? daysAgo(ctx.now, c.withinDays).toISOString() : null;
      return c.interaction === 'completed'
        ? sql`(select max(t.completed_at) from survey_responses t where t.workspace_id = u.workspace_id and t.user_id = u.user_id${survey} and (${since}::timestamptz is null or t.completed_at >= ${since}::timestamptz))`
        : sql`(select max(t.at) from survey_interactions t where t.workspace_id = u.workspace_id and t.user_id = u.user_id and t.type = ${c.interaction}${survey} and (${since}::timestamptz is null or t.at >= ${since}::timestamptz))`;
    }
    case 'segment': return compilePredicate({ segment: (node as SegmentCondition).segment, member: true }, ctx);
    case 'all': case 'any': case 'not': return new Frag('null', []);
    default: {
      const never: never = kind;
      throw new Error(`unhandled node kind ${String(never)}`);
    }
  }
}

/**
 * Explains a definition for one user: each condition with true/false and the value that decided it, and each group
 * with its result. One query (every leaf is compiled by the segment compiler, restricted to the user).
 * Returns undefined when the user does not exist.
 */
export async function explainUser(db: Db, def: Definition, userId: string, ctx: Omit<CompileContext, 'userIds'>): Promise<{ matched: boolean; tree: Explanation } | undefined> {
  const c: CompileContext = { ...ctx, userIds: [userId] };
  const list = leaves(def, 'definition', []);
  const columns = list.flatMap((l, i) => [
    sql`${compilePredicate(l.node, c)} as ${new Frag(`m${i}`, [])}`,
    sql`${decidingValue(l.node, c)} as ${new Frag(`v${i}`, [])}`,
  ]);
  const [row] = await rowsOf<Record<string, unknown>>(db, sql`select ${join(columns, ', ')} from users u where u.workspace_id = ${ctx.workspaceId}::uuid and u.user_id = ${userId}`);
  if (!row) return undefined;
  const byPath = new Map(list.map((l, i) => [l.path, { result: row[`m${i}`] === true, value: row[`v${i}`] }]));
  const build = (node: Definition, path: string): Explanation => {
    if ('all' in node || 'any' in node) {
      const key = 'all' in node ? 'all' : 'any';
      const children = (node as Record<string, Definition[]>)[key].map((d, i) => build(d, `${path}.${key}.${i}`));
      const result = key === 'all' ? children.every((ch) => ch.result) : children.some((ch) => ch.result);
      return { path, group: key, result, children };
    }
    if ('not' in node) {
      const child = build(node.not, `${path}.not`);
      return { path, group: 'not', result: !child.result, children: [child] };
    }
    const leaf = byPath.get(path)!;
    const value = 'event' in node && typeof leaf.value !== 'undefined' ? Number(leaf.value) : leaf.value;
    return { path, condition: 'event' in node ? { ...node, count: countTest(node as EventCondition) } : node, result: leaf.result, value: value ?? null };
  };
  const tree = build(def, 'definition');
  return { matched: tree.result, tree };
}
