import type { WorkspaceRow } from './store.js';

export function presentWorkspace(w: WorkspaceRow) {
  return {
    id: w.id,
    name: w.name,
    ingestKeyHint: w.ingest_key_hint,
    hasWebhookSecret: Boolean(w.webhook_secret_enc),
    rateLimitPerSec: w.rate_limit_per_sec,
    createdAt: w.created_at,
  };
}
