// npm run status: runbook section 7's "useful commands" as one read-only report. Each section has its own
// deadline; a section that cannot be read says why and the others still print.
import { commandLine } from '../lib/harness/cli.js';
import { resolveFor } from '../lib/harness/config.js';
import { dataServices } from '../lib/harness/data-services.js';
import { diskUsage } from '../lib/probes/disk.js';
import { docker } from '../lib/probes/docker.js';
import { orchestratorFor } from '../lib/operations/orchestrators.js';
import { showPools } from '../lib/probes/pgbouncer.js';
import { queryOnce } from '../lib/probes/postgres.js';
import { memory } from '../lib/probes/redis.js';
import { scrub } from '../lib/core/secret.js';

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

async function section(title: string, fn: () => Promise<string[]>): Promise<string> {
  try {
    return `${title}\n${(await fn()).map((l) => `  ${l}`).join('\n')}`;
  } catch (err) {
    return `${title}\n  could not read: ${(err as Error).message.split('\n')[0]}`;
  }
}

async function containerStats(id: string): Promise<string> {
  const s = (await (await docker()).getContainer(id).stats({ stream: false })) as unknown as {
    cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
    precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
    memory_stats: { usage?: number; limit?: number };
  };
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpu = sysDelta > 0 ? (cpuDelta / sysDelta) * (s.cpu_stats.online_cpus ?? 1) * 100 : 0;
  return `cpu ${cpu.toFixed(1)}%  mem ${mb(s.memory_stats.usage ?? 0)}`;
}

export async function status(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const t = resolveFor('all', env).target;
  const data = dataServices(t);
  const parts = await Promise.all([
    section(
      `Services (${t.orchestrator === 'swarm' ? 'swarm stack' : 'compose project'} ${t.composeProject})`,
      async () => {
        // One inventory for both orchestrators: each service, each running copy of it, and the nodes they run on.
        const inv = await orchestratorFor(t).inventory();
        if (!inv.services.length) return ['nothing runs: the stack is not up'];
        const lines: string[] = [];
        for (const s of inv.services) {
          lines.push(`${s.service.padEnd(18)} ${s.running}/${s.desired} running`);
          for (const r of inv.replicas.filter((x) => x.service === s.service)) {
            const state = `${r.state}${r.health ? ` (${r.health})` : ''}`;
            const stats =
              r.state === 'running' && r.slot === undefined ? await containerStats(r.id).catch(() => '') : '';
            lines.push(
              `  ${`${s.service}${r.slot === undefined ? '' : `.${r.slot}`}`.padEnd(22)} ${state.padEnd(20)} on ${r.node ?? '?'}  ${r.image}${stats ? `  ${stats}` : ''}`,
            );
          }
        }
        lines.push('nodes:');
        for (const n of inv.nodes) lines.push(`  ${n.name.padEnd(22)} ${n.state}, ${n.availability}, ${n.role}`);
        return lines;
      },
    ),
    section('DB connections by state (primary)', async () => {
      const rows = await queryOnce<{ n: number; state: string | null }>(
        data.primary,
        'SELECT count(*)::int AS n, state FROM pg_stat_activity GROUP BY state ORDER BY 1 DESC',
        'pg_stat_activity',
      );
      return rows.map((r) => `${String(r.n).padStart(4)}  ${r.state ?? '(background)'}`);
    }),
    section('PgBouncer pools', async () =>
      (await showPools(data.pgbouncer)).map(
        (p) =>
          `${p.database}/${p.user}: ${p.active} of ${p.poolSize} active (${p.usagePct.toFixed(0)}%), ${p.waiting} waiting`,
      ),
    ),
    section('Redis memory', async () => {
      const m = await memory(data.redis);
      return [
        `used ${mb(m.usedBytes)} of ${m.maxBytes > 0 ? mb(m.maxBytes) : 'no maxmemory (unbounded)'}${m.usagePct === undefined ? '' : ` (${m.usagePct.toFixed(1)}%)`}`,
      ];
    }),
    section(`Disk (${t.diskPath})`, async () => {
      const d = await diskUsage(t.diskPath);
      return [`${d.usedPct.toFixed(1)}% used, ${(d.freeBytes / 1024 ** 3).toFixed(1)} GiB free`];
    }),
  ]);
  return scrub(`status — target ${t.name}, ${new Date().toISOString()}\n\n${parts.join('\n\n')}\n`, t.secretValues);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  commandLine({
    usage: 'npm run status --',
    summary: "The runbook's section 7 quick reference in one read: stack, DB, PgBouncer, Redis, disk. Changes nothing.",
  });
  status().then(
    (s) => process.stdout.write(s),
    (err: Error) => {
      process.stderr.write(`status could not run: ${err.message}\n`);
      process.exit(2);
    },
  );
}
