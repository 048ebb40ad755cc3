import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const metrics = {
  ingestMessages: new client.Counter({
    name: 'ag_ingest_messages_total',
    help: 'Ingested messages by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  }),
  groupCommitSize: new client.Histogram({
    name: 'ag_group_commit_messages',
    help: 'Messages written per group-commit transaction',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
    registers: [registry],
  }),
  evaluationSeconds: new client.Histogram({
    name: 'ag_segment_evaluation_seconds',
    help: 'Segment evaluation durations by kind (full, incremental, schedule)',
    labelNames: ['kind'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [registry],
  }),
  outboundDeliveries: new client.Counter({
    name: 'ag_outbound_deliveries_total',
    help: 'Outbound delivery attempts by destination and outcome',
    labelNames: ['destination', 'outcome'] as const,
    registers: [registry],
  }),
};

export interface LabelledValue { labels: Record<string, string>; value: number }

/**
 * Gauges read from PostgreSQL at scrape time (dirty-queue and outbox depth); areas register their collectors here.
 * `collect` returns one number, or one value per label set (with `labelNames`). A failed read reports -1.
 */
export function registerGauge(name: string, help: string, collect: () => Promise<number | LabelledValue[]>, labelNames: string[] = []) {
  return new client.Gauge({
    name, help, labelNames, registers: [registry],
    async collect() {
      const v = await collect().catch(() => -1);
      if (typeof v === 'number') {
        if (labelNames.length) this.reset();
        if (!labelNames.length || v < 0) this.set(v);
        return;
      }
      this.reset();
      for (const { labels, value } of v) this.set(labels, value);
    },
  });
}
