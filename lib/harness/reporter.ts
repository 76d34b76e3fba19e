// Collects every runbook check of a phase run and writes reports/evidence/<phase>.json and
// reports/<phase>.junit.xml. Tests that never ran (bail, failed setup) are written as not-run and shown as
// skipped, never as passed; checks that could not run are JUnit errors, checks that failed are failures.
import { join } from 'node:path';
import type {
  Reporter,
  TestCase,
  TestModule,
  TestRunEndReason,
  TestSpecification,
  TestSuite,
  Vitest,
} from 'vitest/node';
import type { CheckMeta } from './check.js';
import { gateOf } from './gate-meta.js';
import { repoRoot, targetFromSnapshot, type Target } from './config.js';
import type { RunContext } from './run.js';
import { runStart } from './run-start.js';
import { writeAtomic } from '../core/atomic.js';
import { loadJunit, phaseJunit } from './junit.js';
import { measuredInWords } from '../../runbook/words.js';
import { isCouldNotCheck } from '../core/errors.js';
import {
  phases,
  writeEvidence,
  writesEvidence,
  type CheckRecord,
  type CheckStatus,
  type Phase,
  type PhaseEvidence,
} from './evidence.js';
import { BuildAcrossPhases, type Identity } from './identity.js';
import { scrub } from '../core/secret.js';
import { byText } from '../core/order.js';

const identifyModule = join(repoRoot, 'lib', 'harness', 'identify.ts');

export function statusOf(test: TestCase): { status: CheckStatus; message?: string } {
  const r = test.result();
  if (r.state === 'passed') return { status: 'pass' };
  if (r.state === 'pending') return { status: 'not-run', message: 'never ran: an earlier step stopped the run' };
  if (r.state === 'skipped') {
    const unasked = (test.meta().check as CheckMeta | undefined)?.nothingToAsk;
    if (unasked) return { status: 'error', message: unasked };
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
    file: test.module.relativeModuleId,
    at: new Date().toISOString(),
  };
}

export default class RunbookReporter implements Reporter {
  readonly [writesEvidence] = true;
  private vitest!: Vitest;
  private target: Target | undefined;
  /** Spec files each phase of this run has, and those that have ended. */
  private expected = new Map<Phase, number>();
  private ended = new Map<Phase, TestModule[]>();
  private written = new Set<Phase>();
  /** The running build, measured as the run starts (with preflight or smoke in it) and as each phase ends. */
  private builds = new BuildAcrossPhases();
  private junitLoading = false;

  onInit(vitest: Vitest) {
    this.vitest = vitest;
  }

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>) {
    for (const s of specifications) {
      const phase = s.project.name as Phase;
      if (phases.includes(phase)) this.expected.set(phase, (this.expected.get(phase) ?? 0) + 1);
    }
  }

  /**
   * The run the phases' setups resolved, read once, when the first phase ends (their setups have run by then).
   * Without a run context the setup stopped the run and wrote why.
   */
  private resolveRun(): Target | undefined {
    if (this.target) return this.target;
    const runs = this.vitest.projects
      .map((p) => p.getProvidedContext().run)
      .filter((r): r is RunContext => !!r)
      .sort((a, b) => phases.indexOf(a.phase) - phases.indexOf(b.phase));
    if (!runs.length) return undefined;
    this.target = targetFromSnapshot(runs[0]!.settings);
    // The build as the run started, as the first phase setup that measured it found it.
    const atStart = runStart();
    if (atStart) this.builds = new BuildAcrossPhases(atStart);
    return this.target;
  }

  /**
   * Once a phase that writes its own JUnit has started its checks, the XML builder loads while they run (this
   * thread idles then), not as the phase ends. One that fails to load fails here again when the JUnit is written.
   */
  onTestModuleStart(module: TestModule) {
    const phase = module.project.name as Phase;
    if (this.junitLoading || !phases.includes(phase) || phase === 'gonogo') return;
    this.junitLoading = true;
    setImmediate(() => {
      try {
        loadJunit();
      } catch {
        // Reported where the JUnit is written.
      }
    });
  }

  // Through Vitest's module runner, not an import the config's bundle would hoist: Docker's and git's clients
  // load only in the runs that measure the build, and while their tests run.
  private async measure(t: Target): Promise<Identity> {
    return (await this.vitest.import<typeof import('./identify.js')>(identifyModule)).identify(t);
  }

  /**
   * A phase's evidence is written as soon as its last spec file ends, not when the whole run does: in a run of
   * several phases the next phase, and the gate after them, read it.
   */
  async onTestModuleEnd(module: TestModule) {
    const phase = module.project.name as Phase;
    if (!phases.includes(phase)) return;
    const done = [...(this.ended.get(phase) ?? []), module];
    this.ended.set(phase, done);
    if (done.length === this.expected.get(phase) && !this.written.has(phase)) {
      this.written.add(phase);
      await this.writePhase(phase, done, done.every((m) => m.ok()) ? 'passed' : 'failed');
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
    const gate = byPhase.get('gonogo');
    // The gate's exit code is its decision, whatever filter the run was given: only a GO this run made exits 0.
    if (gate && gateOf(gate)?.decision !== 'GO') {
      const decision = gateOf(gate)?.decision;
      process.stderr.write(
        `Go/No-Go: ${decision ?? 'no decision was made (were the gate tests filtered out?)'} — see ${this.target?.reportsDir ?? 'reports'}/gonogo.html\n`,
      );
      process.exitCode = 1;
    }
    for (const [phase, mods] of byPhase) {
      // Written when it ended, unless the run ended with errors no phase saw: then every phase says so.
      if (this.written.has(phase) && !errors.length) continue;
      const own = reason === 'interrupted' ? 'interrupted' : mods.every((m) => m.ok()) ? 'passed' : 'failed';
      await this.writePhase(phase, mods, errors.length ? `${own} (with ${errors.length} unhandled error(s))` : own);
    }
  }

  private async writePhase(phase: Phase, mods: TestModule[], outcome: string) {
    const t = this.resolveRun();
    if (!t) return;
    // Resolved once by the phase's setup; without it the setup stopped the run and wrote why.
    const run = mods[0]!.project.getProvidedContext().run;
    if (!run) return;
    const secrets = t.secretValues;
    // The running build as the phase ends: what a deploy or rollback left, or for a phase that changes nothing,
    // the build it started with, measured again. A build that changed meanwhile is no build its evidence speaks for.
    const identity =
      (phase === 'gonogo' ? gateIdentity(mods) : undefined) ??
      (phase === 'deploy' || phase === 'rollback'
        ? this.builds.changedTo(await this.measure(t))
        : await this.builds.unchangedBy(await this.measure(t)));
    const checks: CheckRecord[] = [];
    const moduleErrors: CheckRecord[] = [];
    const filteredOut: string[] = [];
    const retried: string[] = [];
    for (const m of [...mods].sort((a, b) => byText(a.moduleId, b.moduleId))) {
      for (const test of m.children.allTests()) {
        checks.push(recordOf(test));
        if (test.options.mode === 'skip' || test.options.mode === 'todo') filteredOut.push(test.name);
        const tries = (test.diagnostic()?.retryCount ?? 0) + 1;
        if (tries > 1) retried.push(`${test.name} (${tries} tries)`);
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
    // The build this evidence vouches for, as the phase's spec declared it (check.vouchesFor); smoke and the gate
    // declare none and vouch for the running build that answered. A deploy whose first step never ran still
    // speaks for the checkout it was started on.
    const declared = mods
      .flatMap((m) => [...m.children.allTests()])
      .map((test) => test.meta().vouchesFor)
      .find((b): b is string => typeof b === 'string');
    const vouchesFor =
      declared ??
      (phase === 'smoke' || phase === 'gonogo'
        ? identity.build
        : phase === 'deploy'
          ? (run.checkout ?? 'unknown')
          : 'unknown');
    const evidence: PhaseEvidence = {
      phase,
      target: run.target,
      deploySha: vouchesFor,
      startedAt: run.startedAt,
      finishedAt: new Date().toISOString(),
      outcome,
      partial: await partialReasons(this.vitest, mods, filteredOut, retried),
      identity,
      checks: all,
    };
    writeEvidence(run.reportsDir, evidence);
    // The gate writes its own JUnit artefact (one testcase per condition, decision as a property).
    if (phase !== 'gonogo')
      writeAtomic(join(run.reportsDir, `${phase}.junit.xml`), scrub(phaseJunit(evidence), secrets));
    process.stdout.write(scrub(summary(evidence), secrets));
  }
}

/** The gate measured the identity it decided on: its own evidence records that one rather than asking Docker again. */
function gateIdentity(mods: TestModule[]): Identity | undefined {
  const identity = gateOf(mods)?.identity;
  return typeof identity?.build === 'string' ? identity : undefined;
}

/**
 * Why a run does not count as the whole phase: a name filter, a file filter, .only/.skip, --bail, or a check that
 * was tried more than once (--retry): the runbook's check is one try, and a pass on a later one hides a failure.
 */
async function partialReasons(
  vitest: Vitest,
  mods: TestModule[],
  filteredOut: string[],
  retried: string[],
): Promise<string[]> {
  const reasons: string[] = [];
  if (retried.length)
    reasons.push(`${retried.length} check(s) tried more than once (--retry): ${retried.slice(0, 3).join('; ')}`);
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
    const measured = c.measured === undefined ? '' : `  measured: ${measuredInWords(c.id, c.measured)}`;
    lines.push(
      `  ${label[c.status].padEnd(7)} ${c.title}${measured}${c.advisory && c.status !== 'pass' ? '  (advisory)' : ''}`,
    );
  }
  return lines.join('\n') + '\n';
}
