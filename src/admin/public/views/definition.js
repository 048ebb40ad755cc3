// The segment definition (CONTRACT §3) as an editable tree, and back.
// UI model: groups {kind: 'group', match: 'all'|'any', negate, children} and conditions {kind, ...fields}
// where fields are kept as the strings the inputs hold; toDefinition() turns them into typed JSON.

export const OPS = {
  eq: 'is',
  neq: 'is not',
  in: 'is one of',
  not_in: 'is none of',
  contains: 'contains',
  not_contains: 'does not contain',
  starts_with: 'starts with',
  ends_with: 'ends with',
  gt: 'is more than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  exists: 'is set',
  not_exists: 'is not set',
  before: 'is before',
  after: 'is after',
  within_last: 'is within the last … days',
  more_than_ago: 'is more than … days ago',
};
export const TRAIT_OPS = Object.keys(OPS);
export const ATTRIBUTE_OPS = ['within_last', 'more_than_ago', 'before', 'after', 'exists', 'not_exists'];
export const PROPERTY_OPS = ['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'ends_with', 'gt', 'gte', 'lt', 'lte', 'exists', 'not_exists', 'before', 'after'];
export const ANSWER_OPS = ['eq', 'neq', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'contains', 'exists', 'not_exists'];
export const COUNT_OPS = [['gte', 'at least'], ['lte', 'at most'], ['eq', 'exactly'], ['gt', 'more than'], ['lt', 'fewer than']];

export const KINDS = [
  ['trait', 'User trait'],
  ['accountTrait', 'Account trait'],
  ['attribute', 'Activity date'],
  ['event', 'Event'],
  ['answer', 'Survey answer'],
  ['interaction', 'Survey interaction'],
  ['segment', 'Segment membership'],
];
export const ATTRIBUTES = [['lastSeenAt', 'Last seen'], ['firstSeenAt', 'First seen'], ['lastSurveyResponseAt', 'Last survey response']];

export const valueKind = (op) =>
  op === 'exists' || op === 'not_exists' ? 'none' : op === 'within_last' || op === 'more_than_ago' ? 'days' : op === 'in' || op === 'not_in' ? 'list' : op === 'before' || op === 'after' ? 'date' : ['gt', 'gte', 'lt', 'lte'].includes(op) ? 'number' : 'text';

export function newCondition(kind = 'trait') {
  switch (kind) {
    case 'trait':
    case 'accountTrait':
      return { kind, name: '', op: 'eq', value: '', days: '' };
    case 'attribute':
      return { kind, name: 'lastSeenAt', op: 'within_last', value: '', days: '30' };
    case 'event':
      return { kind, name: '', performed: true, countOp: 'gte', countValue: '1', withinDays: '30', where: [] };
    case 'answer':
      return { kind, survey: '', question: '', op: 'gte', value: '' };
    case 'interaction':
      return { kind, survey: 'any', interaction: 'completed', performed: true, withinDays: '90' };
    case 'segment':
      return { kind, segment: '', member: true };
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

export const newGroup = (match = 'all', children = []) => ({ kind: 'group', match, negate: false, children });

/** A typed value from what was typed: numbers for numeric operators, lists for in/not_in, true/false as booleans. */
function typed(op, raw) {
  const s = String(raw ?? '').trim();
  switch (valueKind(op)) {
    case 'number':
      return s !== '' && !Number.isNaN(Number(s)) ? Number(s) : s;
    case 'list':
      return s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(x) ? Number(x) : x));
    case 'text':
      if (['contains', 'not_contains', 'starts_with', 'ends_with'].includes(op)) return s;
      if (s === 'true' || s === 'false') return s === 'true';
      if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(s)) return Number(s);
      return s;
    default:
      return s;
  }
}

function comparison(op, value, days) {
  const k = valueKind(op);
  if (k === 'none') return { op };
  if (k === 'days') return { op, days: Number(days) };
  return { op, value: typed(op, value) };
}

export function toDefinition(node) {
  if (node.kind === 'group') {
    const g = { [node.match]: node.children.map(toDefinition) };
    return node.negate ? { not: g } : g;
  }
  switch (node.kind) {
    case 'trait':
      return { trait: node.name.trim(), ...comparison(node.op, node.value, node.days) };
    case 'accountTrait':
      return { accountTrait: node.name.trim(), ...comparison(node.op, node.value, node.days) };
    case 'attribute':
      return { attribute: node.name, ...comparison(node.op, node.value, node.days) };
    case 'event': {
      const out = { event: node.name.trim() };
      if (!node.performed) out.performed = false;
      else if (!(node.countOp === 'gte' && String(node.countValue).trim() === '1')) out.count = { op: node.countOp, value: Number(node.countValue) };
      if (String(node.withinDays).trim() !== '') out.withinDays = Number(node.withinDays);
      const where = node.where.map((w) => ({ property: w.name.trim(), ...comparison(w.op, w.value, '') }));
      if (where.length) out.where = where;
      return out;
    }
    case 'answer':
      return { survey: node.survey, question: node.question, ...comparison(node.op, node.value, '') };
    case 'interaction': {
      const out = { survey: node.survey || 'any', interaction: node.interaction, performed: node.performed };
      if (String(node.withinDays).trim() !== '') out.withinDays = Number(node.withinDays);
      return out;
    }
    case 'segment':
      return { segment: node.segment, member: node.member };
    default:
      throw new Error(`unknown node ${node.kind}`);
  }
}

const str = (v) => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v));

/** The editable tree for a stored definition. The root is always a group. */
export function fromDefinition(def) {
  const n = nodeFrom(def);
  return n.kind === 'group' ? n : newGroup('all', [n]);
}

function nodeFrom(d) {
  if (!d || typeof d !== 'object') return newGroup();
  if (Array.isArray(d.all)) return newGroup('all', d.all.map(nodeFrom));
  if (Array.isArray(d.any)) return newGroup('any', d.any.map(nodeFrom));
  if (d.not) {
    const inner = nodeFrom(d.not);
    const g = inner.kind === 'group' ? inner : newGroup('all', [inner]);
    g.negate = !g.negate;
    return g;
  }
  if ('trait' in d || 'accountTrait' in d || 'attribute' in d) {
    const kind = 'trait' in d ? 'trait' : 'accountTrait' in d ? 'accountTrait' : 'attribute';
    return { kind, name: str(d[kind]), op: d.op ?? 'eq', value: str(d.value), days: str(d.days) };
  }
  if ('event' in d) {
    return {
      kind: 'event',
      name: str(d.event),
      performed: d.performed !== false,
      countOp: d.count?.op ?? 'gte',
      countValue: str(d.count?.value ?? 1),
      withinDays: str(d.withinDays),
      where: (d.where ?? []).map((w) => ({ name: str(w.property), op: w.op ?? 'eq', value: str(w.value) })),
    };
  }
  if ('interaction' in d) return { kind: 'interaction', survey: str(d.survey) || 'any', interaction: d.interaction, performed: d.performed !== false, withinDays: str(d.withinDays) };
  if ('survey' in d) return { kind: 'answer', survey: str(d.survey), question: str(d.question), op: d.op ?? 'eq', value: str(d.value) };
  if ('segment' in d) return { kind: 'segment', segment: str(d.segment), member: d.member !== false };
  return newGroup();
}

const isInt = (s) => /^\d+$/.test(String(s).trim());

/** Problems a person can fix before we ask the server, keyed by field name, per node. */
export function problems(node) {
  const p = {};
  const needValue = (op, value, days) => {
    const k = valueKind(op);
    if (k === 'days' && (!isInt(days) || Number(days) < 1)) p.days = 'Enter a number of days (1 or more).';
    if (k === 'number' && (String(value).trim() === '' || Number.isNaN(Number(value)))) p.value = 'Enter a number.';
    if (k === 'date' && !/^\d{4}-\d{2}-\d{2}/.test(String(value))) p.value = 'Pick a date.';
    if ((k === 'text' || k === 'list') && String(value).trim() === '') p.value = k === 'list' ? 'Enter one or more values, separated by commas.' : 'Enter a value.';
  };
  switch (node.kind) {
    case 'group':
      if (!node.children.length) p.children = 'Add at least one condition to this group, or remove it.';
      break;
    case 'trait':
    case 'accountTrait':
      if (!node.name.trim()) p.name = 'Enter the trait name.';
      needValue(node.op, node.value, node.days);
      break;
    case 'attribute':
      needValue(node.op, node.value, node.days);
      break;
    case 'event':
      if (!node.name.trim()) p.name = 'Enter the event name.';
      if (node.performed && (!isInt(node.countValue))) p.countValue = 'Enter a whole number.';
      if (String(node.withinDays).trim() !== '' && (!isInt(node.withinDays) || Number(node.withinDays) < 1)) p.withinDays = 'Enter a number of days, or leave empty for all time.';
      node.where.forEach((w, i) => {
        if (!w.name.trim()) p[`where${i}name`] = 'Enter the property name.';
        const k = valueKind(w.op);
        if (k !== 'none' && String(w.value).trim() === '') p[`where${i}value`] = 'Enter a value.';
      });
      break;
    case 'answer':
      if (!node.survey) p.survey = 'Choose a survey.';
      if (!node.question.trim()) p.question = 'Choose a question.';
      needValue(node.op, node.value, '');
      break;
    case 'interaction':
      if (String(node.withinDays).trim() !== '' && (!isInt(node.withinDays) || Number(node.withinDays) < 1)) p.withinDays = 'Enter a number of days, or leave empty for all time.';
      break;
    case 'segment':
      if (!node.segment) p.segment = 'Choose a segment.';
      break;
  }
  return p;
}

export function allProblems(node) {
  const own = Object.keys(problems(node)).length;
  return own + (node.kind === 'group' ? node.children.reduce((n, c) => n + allProblems(c), 0) : 0);
}
