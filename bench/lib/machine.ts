import os from 'node:os';
import fs from 'node:fs';
import pg from 'pg';

/** One line describing where a figure was measured (benchmarks print it with their results). */
export function machineLine(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, ` +
    `node ${process.version}, load average ${load} (shared machine: other engineers' tests may be running)`;
}

/** CPU seconds used so far by a process (Linux /proc; 0 elsewhere). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/**
 * Where the CPU went during a run: the named processes, this process and the PostgreSQL backends of the bench's
 * database. Returns a function that ends the measurement and gives one line.
 */
export async function cpuMeter(processes: Record<string, number>, databaseUrl: string, self = 'load generator') {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const backends = async () => (await client.query('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')).rows.map((r) => r.pid as number);
  const pgCpu = async () => (await backends()).reduce((s, pid) => s + cpuSeconds(pid), 0);
  const before = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const start = { me: process.cpuUsage(), pg: await pgCpu(), at: performance.now() };
  return async () => {
    const seconds = (performance.now() - start.at) / 1000;
    const me = process.cpuUsage(start.me);
    const parts = Object.entries(processes).map(([name, pid]) => `${name} ${pct(cpuSeconds(pid) - before[name], seconds)}`);
    const line = `cpu: ${[...parts, `${self} ${pct((me.user + me.system) / 1e6, seconds)}`].join(', ')}, ` +
      `postgres backends ${pct((await pgCpu()) - start.pg, seconds)} (of one core)`;
    await client.end();
    return line;
  };
}
const pct = (cpu: number, seconds: number) => `${Math.round((cpu / seconds) * 100)}%`;

/**
 * Lets PostgreSQL absorb a setup burst before a steady-state measurement: CHECKPOINT, then a wait (up to 60 s) until
 * no autovacuum worker runs in the bench's database. Without it the checkpoint and autovacuum of the freshly written
 * tables run during the measured seconds.
 */
export async function settle(databaseUrl: string): Promise<string> {
  const t = performance.now();
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query('checkpoint');
    while (performance.now() - t < 60_000) {
      const { rows } = await c.query(`select count(*)::int as n from pg_stat_activity where backend_type = 'autovacuum worker' and datname = current_database()`);
      if (!rows[0].n) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await c.end();
  }
  return `checkpoint and autovacuum done in ${((performance.now() - t) / 1000).toFixed(1)} s`;
}
