/**
 * Segment Spec messages shaped like what analytics.js / analytics-node send: nested context, a few
 * properties, about 700 bytes of JSON each. Deterministic from (run, i) so a rerun creates new messageIds.
 */
const PLANS = ['free', 'starter', 'pro', 'enterprise'];
const EVENTS = ['Page Viewed', 'Clicked Upgrade', 'Report Exported', 'Invite Sent', 'Dashboard Opened'];

export function segmentMessage(run: string, i: number, users = 5_000): Record<string, unknown> {
  const user = `user-${(i * 7919) % users}`;
  const ts = new Date(Date.UTC(2026, 10, 1) + (i % 86_400) * 1000 * 20).toISOString();
  const base = {
    messageId: `${run}-${i}`,
    userId: user,
    anonymousId: `anon-${(i * 7919) % users}`,
    timestamp: ts,
    sentAt: ts,
    context: {
      library: { name: 'analytics.js', version: '2.11.1' },
      ip: '203.0.113.7',
      locale: 'en-US',
      userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
      page: { path: '/app/reports', url: 'https://app.example.com/app/reports', title: 'Reports', referrer: '' },
    },
    integrations: { All: true },
  };
  const kind = i % 10;
  if (kind === 0) {
    return { ...base, type: 'identify', traits: { email: `${user}@example.com`, plan: PLANS[i % PLANS.length], 'Logins Count': i % 97, verified: i % 2 === 0 } };
  }
  if (kind === 1) {
    return { ...base, type: 'group', groupId: `acct-${i % 500}`, traits: { name: `Account ${i % 500}`, employees: (i % 500) * 3, plan: PLANS[i % PLANS.length] } };
  }
  return { ...base, type: 'track', event: EVENTS[i % EVENTS.length], properties: { plan: PLANS[i % PLANS.length], value: i % 100, source: 'web', beta: i % 3 === 0 } };
}
