import fc from 'fast-check';

/** Characters that break naive code: NUL, lone surrogates, line separators, quotes, SQL/LIKE metacharacters. */
const nasty = fc.constantFrom('\u0000', '\ud800', '\udfff', '\u2028', '\ufeff', '\u202e', "'", '"', '\\', '%', '_', '$', '\n', '😀', 'é', '\u0301');
const unit = fc.oneof({ weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: nasty });

export const sqlish = fc.constantFrom(
  "'; drop table events; --", '" or 1=1 --', "plan') or ('1'='1", '$1', '?', '??', ':workspaceId', '${jndi:ldap://x}',
  "1; select pg_sleep(10)", 'robert\'); DELETE FROM users;--', '%', '_%', '\\x00', 'null', 'NaN', '-0', '1e309',
);
export const protoKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__');

export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit, maxLength: 40 }) },
  { weight: 2, arbitrary: sqlish },
  { weight: 1, arbitrary: protoKeys },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 200, maxLength: 2000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 40_000 }).map((n) => 'x'.repeat(n)) },
);
export const hostileKey = fc.oneof({ weight: 3, arbitrary: fc.string({ unit, maxLength: 20 }) }, { weight: 2, arbitrary: protoKeys }, { weight: 1, arbitrary: sqlish });

/** Any JSON-ish value, nested, with hostile keys and strings and extreme numbers. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e308, -1e308, 2 ** 53 + 1, 5e-324)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Nesting far deeper than any real message: arrays or objects `depth` levels deep. */
export const deepValue = fc.tuple(fc.integer({ min: 50, max: 800 }), fc.boolean()).map(([depth, arrays]) => {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { [`k${i % 3}`]: v };
  return v;
});

const instant = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true, min: new Date(-8.64e15), max: new Date(8.64e15) }).map((d) => d.toISOString()),
  fc.constantFrom('2024-02-30T00:00:00Z', '0000-01-01', '-271821-04-20T00:00:00Z', '+275760-09-13T00:00:00Z', 'yesterday', '', '1', '2024-13-01', 'Infinity'),
  fc.integer({ min: -8.64e15, max: 8.64e15 }),
  fc.double(),
  hostileString,
);

const id = fc.oneof(hostileString, fc.integer(), fc.double(), fc.constantFrom(null, '', true, 0), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(hostileKey, fc.string(), { maxKeys: 2 }));
const obj = fc.oneof({ weight: 4, arbitrary: fc.dictionary(hostileKey, hostileValue, { maxKeys: 6 }) }, { weight: 1, arbitrary: hostileValue }, { weight: 1, arbitrary: deepValue });

export const messageType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('identify', 'track', 'group', 'page', 'screen', 'alias', 'IDENTIFY', 'Track') },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom(null, 1, {}, []) },
);

/** A Segment message where any field may be missing, of the wrong type or hostile. */
export const hostileMessage = fc.record(
  {
    type: messageType,
    userId: id,
    anonymousId: id,
    messageId: fc.oneof(fc.uuid(), hostileString, fc.string({ minLength: 95, maxLength: 130 })),
    event: fc.oneof(hostileString, fc.constant(null), fc.integer()),
    groupId: id,
    timestamp: instant,
    originalTimestamp: instant,
    sentAt: instant,
    receivedAt: instant,
    traits: obj,
    properties: obj,
    context: obj,
    integrations: obj,
    writeKey: fc.oneof(hostileString, fc.integer()),
    extra: hostileValue,
  },
  { requiredKeys: [] },
).chain((m) => fc.dictionary(hostileKey, hostileValue, { maxKeys: 3 }).map((more) => ({ ...more, ...m })));

/** A valid message with one field replaced by something hostile: the mutations closest to real bugs. */
export const mutatedMessage = fc.tuple(
  fc.constantFrom<Record<string, unknown>>(
    { type: 'identify', userId: 'u-1', traits: { plan: 'pro', seats: 3 } },
    { type: 'track', userId: 'u-2', event: 'Clicked Upgrade', properties: { plan: 'pro' } },
    { type: 'group', userId: 'u-3', groupId: 'org-1', traits: { employees: 120 } },
    { type: 'track', anonymousId: 'anon-1', event: 'Viewed', properties: {} },
    { type: 'identify', anonymousId: 'anon-1', userId: 'u-4', traits: { email: 'a@b.c' } },
  ),
  fc.constantFrom('type', 'userId', 'anonymousId', 'messageId', 'event', 'groupId', 'timestamp', 'traits', 'properties', 'context', '__proto__', 'constructor'),
  hostileValue,
).map(([base, field, value]) => {
  const m: Record<string, unknown> = JSON.parse(JSON.stringify(base));
  Object.defineProperty(m, field, { value, enumerable: true, writable: true, configurable: true });
  return m;
});

export const anyMessage = fc.oneof(hostileMessage, mutatedMessage);

const opArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'ends_with', 'gt', 'gte', 'lt', 'lte', 'exists', 'not_exists', 'before', 'after', 'within_last', 'more_than_ago') },
  { weight: 1, arbitrary: fc.oneof(hostileString, fc.constantFrom(null, 1, 'LIKE', 'eq; drop table users')) },
);
const dateish = fc.constantFrom('2024-01-01', '2024-01-01T10:00:00Z', '2024-01-01 10:00', '0001-01-01', '9999-12-31', '275760-09-13', '2024-02-30', '1e400', 'NaN', '2024-01-01T00:00:00+99:99');
const scalarArb = fc.oneof(hostileString, fc.integer(), fc.double(), fc.boolean(), dateish, fc.constantFrom('12', ' 3.5 ', '1e308', '-0', '9'.repeat(400)));
const valueArb = fc.oneof({ weight: 4, arbitrary: scalarArb }, { weight: 1, arbitrary: fc.array(scalarArb, { maxLength: 5 }) }, { weight: 1, arbitrary: hostileValue });
const daysArb = fc.oneof(fc.integer({ min: -5, max: 40_000 }), fc.double(), fc.constantFrom(1e-9, 36500, 0.5, 1e308), hostileString);
const nameArb = fc.oneof({ weight: 3, arbitrary: hostileString }, { weight: 2, arbitrary: fc.constantFrom('plan', 'seats', 'email', 'Clicked Upgrade', 'nps') });

/**
 * Segment definitions from the contract's grammar with hostile names and values, wrong types, unknown keys and
 * nesting past the limit. `ids` are identifiers to refer to (e.g. another workspace's segments and surveys).
 */
export function definitionArb(ids: string[] = []) {
  const idArb = ids.length ? fc.oneof(fc.uuid(), fc.constantFrom(...ids), hostileString) : fc.oneof(fc.uuid(), hostileString);
  const comparison = { op: opArb, value: valueArb, days: daysArb };
  const condition = fc.oneof(
    fc.record({ trait: nameArb, ...comparison }, { requiredKeys: ['trait', 'op'] }),
    fc.record({ accountTrait: nameArb, ...comparison }, { requiredKeys: ['accountTrait', 'op'] }),
    fc.record({ attribute: fc.oneof(fc.constantFrom('firstSeenAt', 'lastSeenAt', 'lastSurveyResponseAt'), hostileString), ...comparison }, { requiredKeys: ['attribute', 'op'] }),
    fc.record({
      event: nameArb,
      count: fc.record({ op: opArb, value: fc.oneof(fc.integer({ min: -3, max: 1e6 }), fc.double(), hostileString) }),
      performed: fc.oneof(fc.boolean(), hostileString),
      withinDays: daysArb,
      where: fc.array(fc.record({ property: nameArb, ...comparison }, { requiredKeys: ['property', 'op'] }), { maxLength: 3 }),
    }, { requiredKeys: ['event'] }),
    fc.record({ survey: idArb, question: nameArb, ...comparison }, { requiredKeys: ['survey', 'question', 'op'] }),
    fc.record({ survey: fc.oneof(idArb, fc.constant('any')), interaction: fc.oneof(fc.constantFrom('seen', 'completed', 'dismissed'), hostileString), performed: fc.boolean(), withinDays: daysArb }, { requiredKeys: ['survey', 'interaction'] }),
    fc.record({ segment: idArb, member: fc.oneof(fc.boolean(), hostileString) }, { requiredKeys: ['segment'] }),
    fc.dictionary(hostileKey, hostileValue, { maxKeys: 3 }),
  );
  // Well-formed conditions with hostile names and values: these reach the compiler and PostgreSQL.
  const text = fc.oneof(hostileString.filter((x) => x.length > 0 && x.length <= 200), fc.constantFrom('pro', 'Clicked Upgrade', 'nps'));
  const name = fc.oneof(text, fc.constantFrom('plan', 'seats', 'email'));
  const wellFormed = fc.oneof(
    fc.record({ trait: name, op: fc.constantFrom('eq', 'neq', 'contains', 'not_contains', 'starts_with', 'ends_with'), value: text }),
    fc.record({ trait: name, op: fc.constantFrom('gt', 'gte', 'lt', 'lte'), value: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('12', '2024-01-01')) }),
    fc.record({ trait: name, op: fc.constantFrom('in', 'not_in'), value: fc.array(fc.oneof(text, fc.integer(), fc.boolean()), { minLength: 1, maxLength: 4 }) }),
    fc.record({ accountTrait: name, op: fc.constantFrom('exists', 'not_exists') }),
    fc.record({ trait: name, op: fc.constantFrom('before', 'after'), value: fc.constantFrom('2024-01-01', '2024-01-01T10:00:00Z', '0001-01-01', '9999-12-31') }),
    fc.record({ attribute: fc.constantFrom('firstSeenAt', 'lastSeenAt', 'lastSurveyResponseAt'), op: fc.constantFrom('within_last', 'more_than_ago'), days: fc.oneof(fc.integer({ min: 1, max: 36500 }), fc.constantFrom(0.001, 36500)) }),
    fc.record({ event: name, count: fc.record({ op: fc.constantFrom('eq', 'neq', 'gt', 'gte', 'lt', 'lte'), value: fc.integer({ min: 0, max: 2 ** 31 }) }), withinDays: fc.integer({ min: 1, max: 36500 }), where: fc.array(fc.record({ property: name, op: fc.constantFrom('eq', 'contains', 'exists'), value: text }).map((w) => (w.op === 'exists' ? { property: w.property, op: w.op } : w)), { maxLength: 2 }) }),
    fc.record({ event: name, performed: fc.boolean() }),
    fc.record({ survey: ids.length ? fc.constantFrom(...ids, 'any') : fc.constant('any'), interaction: fc.constantFrom('seen', 'completed', 'dismissed'), performed: fc.boolean() }),
    ids.length ? fc.record({ segment: fc.constantFrom(...ids), member: fc.boolean() }) : fc.record({ segment: fc.uuid(), member: fc.boolean() }),
  );
  const tree = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 3, arbitrary: wellFormed },
      { weight: 1, arbitrary: condition },
      { weight: 1, arbitrary: fc.record({ all: fc.array(tie('node'), { maxLength: 4 }) }) },
      { weight: 1, arbitrary: fc.record({ any: fc.array(tie('node'), { maxLength: 4 }) }) },
      { weight: 1, arbitrary: fc.record({ not: tie('node') }) },
    ),
  })).node;
  const tooDeep = fc.integer({ min: 13, max: 400 }).map((depth) => {
    let v: unknown = { trait: 'plan', op: 'exists' };
    for (let i = 0; i < depth; i++) v = i % 2 ? { not: v } : { all: [v] };
    return v;
  });
  return fc.oneof({ weight: 8, arbitrary: tree }, { weight: 1, arbitrary: tooDeep }, { weight: 1, arbitrary: hostileValue });
}
