// Collects every runbook check of a phase run and writes reports/evidence/<phase>.json and
// reports/<phase>.junit.xml. Tests that never ran (bail, failed setup) are written as not-run and shown as
// skipped, never as passed; checks that could not run are JUnit errors, checks that failed are failures.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Reporter, TestCase, TestModule, TestRunEndReason, TestSuite, Vitest } from 'vitest/node';
import type { Builder } from 'junit-report-builder';
import type { CheckMeta } from './check.js';
import { resolveTarget } from './config.js';
import { writeAtomic } from '../core/atomic.js';
import { isCouldNotCheck } from '../core/errors.js';
import {
  phases,
  writeEvidence,
  type CheckRecord,
  type CheckStatus,
  type Phase,
  type PhaseEvidence,
} from './evidence.js';
import { headSha } from '../probes/git.js';
import { identify, type Identity } from './identity.js';
import { scrub, scrubOutput } from '../core/secret.js';

const junit = createRequire(import.meta.url)('junit-report-builder') as Builder;

export function statusOf(test: TestCase): { status: CheckStatus; message?: string } {
  const r = test.result();
  if (r.state === 'passed') return { status: 'pass' };
  if (r.state === 'pending') return { status: 'not-run', message: 'never ran: an earlier step stopped the run' };
  if (r.state === 'skipped') {
    const suiteError = firstSuiteError(test);
    if (suiteError) return { status: 'not-run', message: `not run: setup failed: ${suiteError}` };
    if (test.options.mode === 'todo') return { status: 'not-run', message: 'not built' };
    if (r.note?.startsWith('not run')) return { status: 'not-run', message: r.note };
    return r.note ? { status: 'skipped', message: r.note } : { status: 'not-run', message: 'skipped without a reason' };
  }
  const err = r.errors?.[0];
  const message = err ? `${err.message}` : 'failed';
  return { status: err && isCouldNotCheck(err) ? 'error' : 'fail', message };
}

function firstSuiteError(test: TestCase): string | undefined {
  let parent: TestSuite | TestModule = test.parent;
  for (;;) {
    const errs = parent.errors();
    if (errs.length) return errs[0]!.message;
    if (parent.type === 'module') return undefined;
    parent = parent.parent;
  }
}

export function recordOf(test: TestCase): CheckRecord {
  const meta = test.meta().check as CheckMeta | undefined;
  const { status, message } = statusOf(test);
  const diag = test.diagnostic();
  return {
    id: meta?.id ?? test.fullName,
    title: test.name,
    status,
    measured: meta?.measured,
    threshold: meta?.threshold,
    action: meta?.action,
    advisory: meta?.advisory,
    message,
    durationMs: test.meta().stepMs ?? (diag ? Math.round(diag.duration) : undefined),
    at: new Date().toISOString(),
  };
}

export default class RunbookReporter implements Reporter {
  private startedAt = new Date().toISOString();
  private vitest!: Vitest;

  onInit(vitest: Vitest) {
    this.vitest = vitest;
    this.startedAt = new Date().toISOString();
    try {
      scrubOutput(resolveTarget().target.secretValues);
    } catch {
      // No target, no secrets known: the configuration error is reported by the phase's setup.
    }
  }

  async onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    errors: ReadonlyArray<{ message?: string }>,
    reason: TestRunEndReason,
  ) {
    const byPhase = new Map<Phase, TestModule[]>();
    for (const m of modules) {
      const name = m.project.name as Phase;
      if (!phases.includes(name)) continue;
      byPhase.set(name, [...(byPhase.get(name) ?? []), m]);
    }
    if (byPhase.size === 0) return;
    let target = 'unknown';
    let reportsDir = process.env.RUNBOOK_REPORTS_DIR ?? join(this.vitest.config.root, 'reports');
    let secrets: string[] = [];
    let head = 'unknown';
    let identity: Identity | undefined;
    try {
      const t = resolveTarget().target;
      target = t.name;
      reportsDir = t.reportsDir;
      secrets = t.secretValues;
      head = await headSha(t.projectDir).catch(() => 'unknown');
      identity = await identify(t);
    } catch {
      // A config error already stopped the run; the evidence says so through its outcome.
    }
    for (const [phase, mods] of byPhase) {
      const checks: CheckRecord[] = [];
      const moduleErrors: CheckRecord[] = [];
      const filteredOut: string[] = [];
      for (const m of [...mods].sort((a, b) => a.moduleId.localeCompare(b.moduleId))) {
        for (const t of m.children.allTests()) {
          checks.push(recordOf(t));
          if (t.options.mode === 'skip' || t.options.mode === 'todo') filteredOut.push(t.name);
        }
        for (const e of m.errors()) {
          moduleErrors.push({
            id: `${phase}.load`,
            title: `${m.relativeModuleId}: could not run`,
            status: 'error',
            message: e.message,
            at: new Date().toISOString(),
          });
        }
      }
      // Whole records are scrubbed, measured values included: an API that echoes a key back must not leak it here.
      const all = [...moduleErrors, ...checks].map((c) => JSON.parse(scrub(JSON.stringify(c), secrets)) as CheckRecord);
      const measuredOf = (id: string) => all.find((c) => c.id === id)?.measured as Record<string, unknown> | undefined;
      // The build this evidence vouches for: what preflight was about to deploy, what deploy deployed, what a
      // rollback restored, and for smoke and the gate the build that answered.
      const vouchesFor =
        phase === 'preflight'
          ? head
          : phase === 'deploy'
            ? String(measuredOf('deploy.1')?.deploy_sha ?? head)
            : phase === 'rollback'
              ? String(measuredOf('rollback.target')?.sha ?? 'unknown')
              : (identity?.build ?? 'unknown');
      const evidence: PhaseEvidence = {
        phase,
        target,
        deploySha: vouchesFor,
        startedAt: this.startedAt,
        finishedAt: new Date().toISOString(),
        outcome: errors.length ? `${reason} (with ${errors.length} unhandled error(s))` : reason,
        partial: await partialReasons(this.vitest, mods, filteredOut),
        identity,
        checks: all,
      };
      writeEvidence(reportsDir, evidence);
      // The gate writes its own JUnit artefact (one testcase per condition, decision as a property).
      if (phase !== 'gonogo') writeAtomic(join(reportsDir, `${phase}.junit.xml`), scrub(phaseJunit(evidence), secrets));
      process.stdout.write(scrub(summary(evidence), secrets));
    }
  }
}

/** Why a run does not count as the whole phase: a name filter, a file filter, .only/.skip, or --bail. */
async function partialReasons(vitest: Vitest, mods: TestModule[], filteredOut: string[]): Promise<string[]> {
  const reasons: string[] = [];
  if (vitest.config.testNamePattern) reasons.push(`-t ${String(vitest.config.testNamePattern)}`);
  if (vitest.config.bail) reasons.push(`--bail=${vitest.config.bail}`);
  if (filteredOut.length)
    reasons.push(
      `${filteredOut.length} test(s) filtered out (-t, .only or .skip): ${filteredOut.slice(0, 3).join('; ')}`,
    );
  const project = mods[0]?.project;
  if (project) {
    const { testFiles } = await project.globTestFiles();
    if (mods.length < testFiles.length)
      reasons.push(`a file filter: ran ${mods.length} of ${testFiles.length} spec files`);
  }
  return reasons;
}

const label: Record<CheckStatus, string> = {
  pass: 'PASS',
  fail: 'FAIL',
  error: 'ERROR',
  skipped: 'SKIP',
  'not-run': 'NOT RUN',
};

export function summary(e: PhaseEvidence): string {
  const lines = [
    `\n${e.phase} — target ${e.target}, build ${e.deploySha}${e.partial?.length ? ` — PARTIAL RUN (${e.partial.join('; ')}): the gate will not accept it` : ''}`,
  ];
  for (const c of e.checks) {
    const measured = c.measured === undefined ? '' : `  measured ${formatMeasured(c.measured)}`;
    lines.push(
      `  ${label[c.status].padEnd(7)} ${c.title}${measured}${c.advisory && c.status !== 'pass' ? '  (advisory)' : ''}`,
    );
  }
  return lines.join('\n') + '\n';
}

export function formatMeasured(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** JUnit for one phase. Measured values go to system-out: the published schema allows no testcase properties. */
export function phaseJunit(e: PhaseEvidence): string {
  const b = junit.newBuilder();
  const suite = b
    .testSuite()
    .name(e.phase)
    .timestamp(e.startedAt)
    .property('target', e.target)
    .property('DEPLOY_SHA', e.deploySha)
    .property('outcome', e.outcome);
  for (const c of e.checks) {
    const tc = suite
      .testCase()
      .className(e.phase)
      .name(c.title)
      .time((c.durationMs ?? 0) / 1000);
    const detail = [
      `id: ${c.id}`,
      c.threshold ? `threshold: ${c.threshold}` : '',
      c.measured !== undefined ? `measured: ${formatMeasured(c.measured)}` : '',
      c.action ? `action: ${c.action}` : '',
      c.advisory ? 'advisory: does not block GO' : '',
    ]
      .filter(Boolean)
      .join('\n');
    tc.standardOutput(detail);
    const text = `${c.title}\n${c.message ?? ''}${c.action ? `\nhint: ${c.action}` : ''}`;
    if (c.status === 'fail') tc.failure(text, 'failure');
    else if (c.status === 'error') tc.error(text, 'could-not-check');
    else if (c.status === 'skipped' || c.status === 'not-run') tc.skipped();
  }
  return schemaClean(b.build());
}

/** junit-report-builder adds a `skipped` attribute to <testsuites> that the Jenkins xUnit schema rejects. */
export function schemaClean(xml: string): string {
  return xml.replace(/(<testsuites\b[^>]*?)\s+skipped="\d+"/, '$1');
}
