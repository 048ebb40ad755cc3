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

/** Gauges read from PostgreSQL at scrape time (dirty-queue and outbox depth); areas register their collectors here. */
export function registerGauge(name: string, help: string, collect: () => Promise<number>, labelNames: string[] = []) {
  return new client.Gauge({
    name, help, labelNames, registers: [registry],
    async collect() { this.set(await collect().catch(() => -1)); },
  });
}
