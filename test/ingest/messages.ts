/** Segment Spec messages shaped like the ones analytics.js and analytics-node send. */
let n = 0;
const nextId = () => `msg-${Date.now().toString(36)}-${++n}`;

const context = {
  library: { name: 'analytics.js', version: '2.11.1' },
  ip: '203.0.113.7',
  locale: 'en-US',
  page: { path: '/pricing', title: 'Pricing', url: 'https://example.com/pricing', referrer: 'https://google.com/' },
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  campaign: { name: 'spring', source: 'newsletter' },
};

export type Message = Record<string, any>;

export function anIdentify(fields: Record<string, unknown> = {}): Message {
  return {
    type: 'identify',
    messageId: nextId(),
    userId: 'user-1',
    anonymousId: null,
    timestamp: '2026-11-20T10:00:00.000Z',
    sentAt: '2026-11-20T10:00:00.100Z',
    context,
    integrations: { All: true, Salesforce: false },
    traits: { email: 'ada@example.com', name: 'Ada Lovelace', plan: 'pro', 'Logins Count': 12, verified: true, address: { city: 'London' } },
    ...fields,
  };
}

export function aTrack(fields: Record<string, unknown> = {}): Message {
  return {
    type: 'track',
    messageId: nextId(),
    userId: 'user-1',
    event: 'Clicked Upgrade',
    timestamp: '2026-11-20T10:05:00.000Z',
    context,
    properties: { plan: 'pro', value: 49.5, 'Button Color': 'green', trial: false },
    ...fields,
  };
}

export function aGroup(fields: Record<string, unknown> = {}): Message {
  return {
    type: 'group',
    messageId: nextId(),
    userId: 'user-1',
    groupId: 'acct-1',
    timestamp: '2026-11-20T10:10:00.000Z',
    context,
    traits: { name: 'Initech', employees: 250, industry: 'Software', 'Is Paying': true },
    ...fields,
  };
}
