/** The 50 segments of the incremental benchmarks (bench/incremental.ts, bench/evaluator-throughput.ts). */
export const EVENTS = ['Upgrade', 'Login', 'Viewed Page', 'Invite', 'Export', 'Search', 'Share', 'Comment', 'Upload', 'Logout'];
export const PLANS = ['pro', 'free', 'team', 'enterprise'];

/** 49 segments over traits, events, windows, accounts and other segments, plus the probe segment (last). */
export function definitions(): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < 49; i++) {
    const event = EVENTS[i % EVENTS.length];
    const plan = PLANS[i % PLANS.length];
    switch (i % 5) {
      case 0: out.push({ trait: 'plan', op: 'eq', value: plan }); break;
      case 1: out.push({ event, count: { op: 'gte', value: 1 + (i % 3) }, withinDays: 7 }); break;
      case 2: out.push({ all: [{ trait: 'plan', op: 'neq', value: plan }, { event, withinDays: 30 }] }); break;
      case 3: out.push({ any: [{ trait: 'score', op: 'gte', value: 50 + i }, { attribute: 'lastSeenAt', op: 'within_last', days: 1 }] }); break;
      default: out.push({ all: [{ event, where: [{ property: 'plan', op: 'eq', value: plan }] }, { not: { trait: 'plan', op: 'eq', value: 'free' } }] });
    }
  }
  out.push({ event: 'Probe' });
  return out;
}
