/** The pure part of an audience check: given segment states and one user's memberships, decide. */

export interface AudienceDef {
  id: string;
  name: string;
  include: string[];
  match: 'any' | 'all';
  exclude: string[];
}

export interface SegmentState { id: string; name: string; type: string; status: string }

/** Only active and paused segments take part in targeting; draft (not evaluated) and archived ones do not. */
export const COUNTING = new Set(['active', 'paused']);
export const counts = (s: SegmentState | undefined): s is SegmentState => !!s && COUNTING.has(s.status);

export type IncludeResult = 'matched' | 'failed' | 'not_counted';
export type ExcludeResult = 'excluded' | 'not_excluded' | 'not_counted';
export type Reason =
  | { segmentId: string; segmentName: string | null; status: string; role: 'include'; result: IncludeResult }
  | { segmentId: string; segmentName: string | null; status: string; role: 'exclude'; result: ExcludeResult };

export interface Eligibility { eligible: boolean; reasons: Reason[] }

/**
 * include empty: everyone (minus exclusions). match "any": a member of at least one counting include
 * segment. match "all": a member of every include segment, and every one of them must count: an
 * include segment that is draft, archived or deleted makes an "all" audience empty rather than wider.
 * A member of any counting exclude segment is not eligible.
 */
export function decide(def: AudienceDef, segments: Map<string, SegmentState>, isMember: (segmentId: string) => boolean): Eligibility {
  const reasons: Reason[] = [];
  const meta = (id: string) => {
    const s = segments.get(id);
    return { segmentId: id, segmentName: s?.name ?? null, status: s?.status ?? 'deleted' };
  };
  let matched = 0;
  let failed = 0;
  for (const id of def.include) {
    const s = segments.get(id);
    const result: IncludeResult = !counts(s) ? 'not_counted' : isMember(id) ? 'matched' : 'failed';
    if (result === 'matched') matched++; else failed++;
    reasons.push({ ...meta(id), role: 'include', result });
  }
  let excluded = false;
  for (const id of def.exclude) {
    const s = segments.get(id);
    const result: ExcludeResult = !counts(s) ? 'not_counted' : isMember(id) ? 'excluded' : 'not_excluded';
    if (result === 'excluded') excluded = true;
    reasons.push({ ...meta(id), role: 'exclude', result });
  }
  const included = def.include.length === 0 || (def.match === 'any' ? matched > 0 : failed === 0);
  return { eligible: included && !excluded, reasons };
}

/** Up to this many counting segments a membership pattern fits in one int (bit i: member of segment i). */
const MAX_PATTERN_BITS = 31;
const MAX_PATTERNS = 4096;

/**
 * decide() for the users of one audience. The answer depends only on which of the audience's counting
 * segments a user is in, so each membership pattern is decided once and its answer, frozen, is shared by
 * every check with that pattern: a hot check allocates no reasons and the route serialises each answer once
 * (see sendShared). Built per cached definition, so a definition change starts from scratch.
 */
export class Decider {
  private readonly counted: string[];
  private readonly answers = new Map<number, Eligibility>();

  constructor(readonly def: AudienceDef, readonly segments: Map<string, SegmentState>) {
    this.counted = [...new Set([...def.include, ...def.exclude])].filter((id) => counts(segments.get(id)));
  }

  decide(isMember: (segmentId: string) => boolean): Eligibility {
    const counted = this.counted;
    if (counted.length > MAX_PATTERN_BITS) return decide(this.def, this.segments, isMember);
    let pattern = 0;
    for (let i = 0; i < counted.length; i++) if (isMember(counted[i])) pattern |= 1 << i;
    let answer = this.answers.get(pattern);
    if (!answer) {
      answer = deepFreeze(decide(this.def, this.segments, (id) => (pattern & (1 << counted.indexOf(id))) !== 0));
      if (this.answers.size < MAX_PATTERNS) this.answers.set(pattern, answer);
    }
    return answer;
  }
}

function deepFreeze(e: Eligibility): Eligibility {
  for (const r of e.reasons) Object.freeze(r);
  Object.freeze(e.reasons);
  return Object.freeze(e);
}
