import os from 'node:os';

/** One line describing where a figure was measured (benchmarks print it with their results). */
export function machineLine(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, ` +
    `node ${process.version}, load average ${load} (shared machine: other engineers' tests may be running)`;
}
