// Helpers for end-to-end tests: run a phase as Bolt would (a child Vitest process) into a private reports
// folder, read what it wrote, and flip the staging API's fault switches.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot, resolveTarget, type Target } from '../../lib/harness/config';
import { dataServices } from '../../lib/harness/data-services';
import { compose, composeArgs } from '../../lib/probes/compose';
import { run } from '../../lib/core/exec';
import { readEvidence, type CheckRecord, type Phase, type PhaseEvidence } from '../../lib/harness/evidence';
import { waitHealthy } from '../../lib/probes/health';
import { composeFor } from '../../lib/operations/stack';
import { runPhase } from '../../scripts/phases';
import { killPointEnv, killPointMarker } from '../../lib/harness/killpoint';
import { request } from 'undici';
import { X509Certificate } from 'node:crypto';
import { connect as connectTls } from 'node:tls';
import { waitUntil } from '../../lib/core/wait';
import { engine } from '../../lib/probes/engine';
import { serviceContainer } from '../../lib/probes/docker';
import { get } from '../../lib/probes/http';
import { latencyQueries } from '../../smoke/checks';
import { copyEvidence } from './evidence-copy';

export const t: Target = resolveTarget().target;
/** Staging's data services, by the URLs staging's target gives (production-shaped runs reach them by exec). */
export const data = dataServices(t);

/** The production target pointed at the staging stack through overrides. */
export const productionEnv = (): Record<string, string> => ({
  RUNBOOK_TARGET: 'production',
  RUNBOOK_PROJECT_DIR: t.projectDir,
  RUNBOOK_COMPOSE_FILE: t.composeFile,
  RUNBOOK_COMPOSE_PROJECT: t.composeProject,
  RUNBOOK_API_URL: t.apiUrl,
  RUNBOOK_API_LOCAL_URL: t.apiLocalUrl,
  RUNBOOK_MCP_URL: t.mcpUrl,
  RUNBOOK_CA_FILE: t.caFile!,
  BUYWHERE_API_KEY: t.apiKey.reveal(),
  RUNBOOK_BACKUPS_DIR: t.backupsDir,
  RUNBOOK_BACKUP_PATTERN: t.backupPattern,
  RUNBOOK_MONITORING_SERVICES: t.monitoringServices.join(' '),
  RUNBOOK_PROMETHEUS_URL: t.prometheusUrl!,
  RUNBOOK_ALERTMANAGER_URL: t.alertmanagerUrl!,
});

export function reportsDir(): string {
  return mkdtempSync(join(tmpdir(), 'runbook-reports-'));
}

export interface PhaseRun {
  /** The reports folder the run wrote to. */
  reports: string;
  exitCode: number | undefined;
  output: string;
  seconds: number;
  evidence: PhaseEvidence;
  check(id: string): CheckRecord;
  junit: string;
}

export async function phase(
  name: Phase,
  opts: { reports?: string; env?: Record<string, string | undefined>; timeoutMs?: number; args?: string[] } = {},
): Promise<PhaseRun> {
  const reports = opts.reports ?? reportsDir();
  const r = await runPhase(name, {
    env: { RUNBOOK_REPORTS_DIR: reports, ...opts.env },
    timeoutMs: opts.timeoutMs ?? 5 * 60_000,
    args: opts.args,
  });
  const ev = readEvidence(reports, name);
  if (!ev.ok)
    throw new Error(`${name} wrote no evidence (${ev.problem}); exit ${r.exitCode}\n${r.output.slice(-3000)}`);
  let junit = '';
  try {
    junit = readFileSync(join(reports, `${name}.junit.xml`), 'utf8');
  } catch {
    // gonogo writes its JUnit from the spec; absent when the run died early.
  }
  return {
    reports,
    exitCode: r.exitCode,
    output: r.output,
    seconds: r.durationMs / 1000,
    evidence: ev.evidence,
    junit,
    check(id) {
      const c = ev.evidence.checks.find((x) => x.id === id);
      if (!c) throw new Error(`no check ${id} in ${name} evidence: ${ev.evidence.checks.map((x) => x.id).join(', ')}`);
      return c;
    },
  };
}

export async function setFaults(faults: Record<string, number | boolean>) {
  if (!t.adminUrl) throw new Error('the staging admin endpoint is off (ADMIN_ENABLED)');
  const res = await request(`${t.adminUrl}/admin/faults`, {
    method: 'PUT',
    body: JSON.stringify(faults),
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`admin endpoint: HTTP ${res.statusCode} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export const noFaults = {
  searchDelayMs: 0,
  search5xx: false,
  wrongCurrency: false,
  untaggedRedirect: false,
  wrongTag: false,
  lookalikeRedirect: false,
  degradedHealth: false,
  healthDown: false,
  responseDelayMs: 0,
  lyingHealth: false,
  usdNoPrice: false,
  redirectStatus: 0,
  redirectPort: false,
  redirectUserinfo: false,
  echoKey: false,
  redirectFailures: 0,
};

/**
 * Asks the freshly deployed API every search smoke 9 times, once, without a deadline that matters: a healthy
 * baseline is a warmed-up stack. A cold one after a database restart is the runbook's own HOLD ("investigate
 * warm-up"), which the fault matrix is not about.
 */
export async function warmUp() {
  for (const path of latencyQueries) {
    await get(`${t.apiUrl}${path}`, {
      caFile: t.caFile,
      timeoutMs: 30_000,
    }).catch(() => undefined);
  }
}

export async function resetFaults() {
  await setFaults(noFaults);
}

/** Stops a staging service for the duration of fn, then starts it again and waits until it is healthy. */
export async function withStopped<T>(service: string, fn: () => Promise<T>): Promise<T> {
  const p = await composeFor(t);
  const stop = await compose(p, composeArgs.stop(p, [service]), { timeoutMs: 60_000 });
  if (stop.exitCode !== 0) throw new Error(`could not stop ${service}: ${stop.output}`);
  try {
    return await fn();
  } finally {
    await compose(p, composeArgs.up(p, [service]), { timeoutMs: 60_000 });
    await waitHealthy(t.composeProject, [service], { timeoutMs: 120_000 });
  }
}

const projectGit = (...args: string[]) =>
  run(
    ['git', '-c', 'user.name=BuyWhere Staging', '-c', 'user.email=staging@buywhere.invalid', ...args] as [
      string,
      ...string[],
    ],
    { cwd: t.projectDir, timeoutMs: 30_000 },
  );

/** Commits files into the staging project's checkout (null deletes) and pushes, as a new build to deploy. */
export async function commitToProject(files: Record<string, string | null>, message: string): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(t.projectDir, path);
    if (content === null) rmSync(full, { force: true });
    else writeFileSync(full, content);
  }
  await projectGit('add', '-A');
  const c = await projectGit('commit', '-qm', message);
  if (c.exitCode !== 0) throw new Error(`commit failed: ${c.output}`);
  await projectGit('push', '-q', 'origin', 'master');
  return (await projectGit('rev-parse', '--short', 'HEAD')).output.trim();
}

export async function projectHead(): Promise<string> {
  return (await projectGit('rev-parse', '--short', 'HEAD')).output.trim();
}

/**
 * Deploy (a redeploy of the running build), preflight and smoke run once on the healthy stack, each into its
 * own reports folder; all must pass. The gate needs all three: the deploy vouches for the running build.
 */
export async function healthyEvidence(): Promise<{ deploy: string; preflight: string; smoke: string }> {
  await resetFaults();
  const deploy = reportsDir();
  const preflight = reportsDir();
  const smoke = reportsDir();
  // One after the other: on two cores, phases run side by side slow each other's measurements down.
  const d = await phase('deploy', { reports: deploy });
  await warmUp();
  const p = await phase('preflight', { reports: preflight });
  const s = await phase('smoke', { reports: smoke });
  const failing = [d, p, s].flatMap((r) =>
    r.evidence.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id} ${c.status}: ${c.message ?? ''}`),
  );
  if (d.exitCode !== 0 || p.exitCode !== 0 || s.exitCode !== 0)
    throw new Error(`the healthy stack did not pass:\n${failing.join('\n')}`);
  return { deploy, preflight, smoke };
}

/** A fresh reports folder holding copies of the named phases' evidence from the given folders (see copyEvidence). */
export function evidenceDir(...phases: Array<[from: string, phase: Phase]>): string {
  const dir = reportsDir();
  mkdirSync(join(dir, 'evidence'), { recursive: true });
  for (const [from, name] of phases) copyEvidence(from, dir, name);
  return dir;
}

/** Runs the gate on a reports folder and reads its decision. */
export async function gonogo(dir: string, env: Record<string, string> = {}) {
  const g = await phase('gonogo', { reports: dir, env });
  const decision = JSON.parse(readFileSync(join(dir, 'evidence', 'gate.json'), 'utf8')) as {
    decision: 'GO' | 'HOLD';
    deploySha: string;
    decidedAt: string;
    validUntil?: string;
    conditions: Array<{ verdict: string; action: string; reason: string }>;
    completeness: { verdict: string; reason: string };
  };
  return {
    ...g,
    decision,
    reasons: [decision.completeness.reason, ...decision.conditions.map((c) => c.reason)].join('\n'),
  };
}

/** Every process below `root`, read from /proc: compose and its helpers lead process groups of their own. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone while we looked.
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

function sigkill(pid: number) {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Not a group leader, or already gone.
    }
  }
}

/**
 * Starts a phase as Bolt would, armed to hold at one runbook kill point ("deploy step 4 in progress"), and
 * SIGKILLs it and everything it started as soon as it announces the point. A phase that ends without
 * reaching the point is an error: the point was not tested.
 */
export async function killPhaseAt(
  name: 'deploy' | 'rollback',
  point: string,
  opts: { timeoutMs?: number; reports?: string; env?: Record<string, string> } = {},
): Promise<{ output: string }> {
  const child = execa(join(repoRoot, 'node_modules', '.bin', 'vitest'), ['run', '--project', name], {
    cwd: repoRoot,
    detached: true,
    reject: false,
    all: true,
    env: {
      FORCE_COLOR: '0',
      ...opts.env,
      RUNBOOK_REPORTS_DIR: opts.reports ?? join(repoRoot, 'reports', 'e2e-kill'),
      [killPointEnv]: point,
    },
  });
  let output = '';
  let killed = false;
  const announced = `${killPointMarker} ${point} `;
  const deadline = setTimeout(() => sigkill(child.pid!), opts.timeoutMs ?? 300_000);
  child.all!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (killed || !output.includes(announced)) return;
    killed = true;
    const tree = descendants(child.pid!);
    sigkill(child.pid!);
    for (const pid of tree) sigkill(pid);
  });
  const r = await child;
  clearTimeout(deadline);
  if (!killed)
    throw new Error(
      `kill point "${point}" was not reached: ${name} ended first (exit ${r.exitCode ?? r.signal})\n${output.slice(-2500)}`,
    );
  return { output };
}

/**
 * Makes the edge read tls/server.crt again (SIGHUP to nginx), and waits until it serves that certificate: nginx
 * swaps workers gracefully, so the old certificate may answer for a moment after the signal.
 */
export async function reloadEdge(): Promise<void> {
  const edge = await serviceContainer(t.composeProject, 'edge', 'compose');
  await engine(`/containers/${edge.id}/kill`, { method: 'POST', query: { signal: 'HUP' } });
  const want = new X509Certificate(readFileSync(join(t.projectDir, 'tls', 'server.crt'))).fingerprint256;
  const { port, hostname } = new URL(t.apiUrl);
  const served = () =>
    new Promise<string>((resolve, reject) => {
      const s = connectTls({ host: hostname, port: Number(port), servername: hostname, rejectUnauthorized: false });
      s.setTimeout(2000, () => s.destroy(new Error('no TLS handshake within 2 s')));
      s.once('secureConnect', () => {
        const fp = s.getPeerCertificate().fingerprint256;
        s.end();
        resolve(fp);
      });
      s.once('error', reject);
    });
  await waitUntil(
    async () => {
      const fp = await served();
      return fp === want ? { ready: true, value: fp } : { ready: false, last: `serves ${fp}` };
    },
    { what: 'the edge serving tls/server.crt', timeoutMs: 15_000, intervalMs: 100 },
  );
}
