import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import RunbookReporter from './lib/harness/reporter';
import RunbookSequencer from './lib/harness/sequencer';
import { runOnlyWhenNamed } from './lib/harness/project-guard';
import { phases } from './lib/harness/evidence';
import { makeTestTmp } from './lib/harness/test-tmp';
import TestTally from './lib/harness/tally';

const named = process.argv
  .map((a, i) => (process.argv[i - 1] === '--project' ? a : a.startsWith('--project=') ? a.slice(10) : undefined))
  .filter((a): a is string => !!a);
// One HTML report per command: `npm run smoke` → reports/html/smoke, `npm run launch` → reports/html/launch,
// `npm test` → reports/html/test.
const htmlDir =
  named.length === 0
    ? 'all'
    : named.length === 1
      ? named[0]
      : named.every((n) => (phases as readonly string[]).includes(n))
        ? 'launch'
        : 'test';

// Vitest sets up every project in the config before it applies --project, at a second or more per `npm run
// <phase>` on a busy host: only the projects named (Vitest's wildcards included) are declared. A bare run, or
// one that excludes with `!`, gets them all, and the project guard decides.
const wanted = (name: string) =>
  named.some((n) => new RegExp(`^${n.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(name));
const onlyNamed = (all: TestProjectInlineConfiguration[]) =>
  named.length === 0 || named.some((n) => n.startsWith('!')) ? all : all.filter((p) => wanted(String(p.test?.name)));

// On a terminal, Vitest's live summary redraws the last lines of the screen for as long as a run goes: it would
// draw over the plan and the confirmation prompt of a deploy or rollback, so those run without it.
const prompts = named.some((n) => n === 'deploy' || n === 'rollback');

// Runbook order. Several phases in one run (`npm run launch`) run one after another in this order; each
// writes its evidence as it ends, and a phase whose earlier phases did not pass records its checks as not run.
const runbookOrder: readonly string[] = phases;

// Threads start faster than forks: a phase is one short process, run several times a morning.
const phasePool = 'threads' as const;

// Each phase's global setup lives beside its specs (<phase>/setup.ts).
const runbookPhase = (name: string, testTimeout: number) => ({
  plugins: [guard],
  test: {
    name,
    sequence: { groupOrder: runbookOrder.indexOf(name) + 1 },
    setupFiles: ['lib/harness/phase-guard.ts'],
    // Smoke's ten checks run side by side (smoke/smoke.spec.ts); the other phases' tests are sequential.
    maxConcurrency: 10,
    include: [`${name}/**/*.spec.ts`],
    fileParallelism: false,
    // Preflight's six spec files share one module graph (pg, ioredis, dockerode loaded once, not once a file):
    // a phase's files keep no module state of their own.
    isolate: false,
    pool: phasePool,
    testTimeout,
    hookTimeout: testTimeout,
    globalSetup: [`${name}/setup.ts`],
  },
});

// Each project names its own plugins instead of `extends: true`: extending makes Vitest load and bundle this
// file a second time for every project, a quarter of a second of every phase's start. What the projects share
// from the root (reporters, sequencer, fsModuleCache) Vitest reads from the root itself.
const guard = runOnlyWhenNamed(['unit']);

// The harness's own tests seal the evidence they write, and the phases they start seal theirs, with a key of
// their own: never the key in the home directory that vouches for real runs. Their temporary folders go in one
// of this run's, removed as it ends (lib/harness/test-tmp.ts).
const ownTestsRun = named.length === 0 || named.some((n) => n.startsWith('!')) || ['unit', 'e2e'].some(wanted);
const testEnv = {
  RUNBOOK_EVIDENCE_KEY_FILE: join(tmpdir(), 'buywhere-runbook-tests', 'evidence.key'),
  ...(ownTestsRun ? { TMPDIR: makeTestTmp() } : {}),
};

export default defineConfig({
  test: {
    // Transformed modules are kept on disk (keyed by their content), so each phase's process stops
    // transforming the same TypeScript again: a phase is one short process, run several times a morning.
    experimental: { fsModuleCache: true },
    sequence: { sequencer: RunbookSequencer },
    reporters: [
      prompts ? ['default', { summary: false }] : 'default',
      new RunbookReporter(),
      ['html', { outputFile: `reports/html/${htmlDir}/index.html` }],
      // The harness's own tests end with one line of counts; a runbook phase ends with its own summary.
      ...(named.some((n) => n === 'unit' || n === 'e2e') ? [new TestTally()] : []),
    ],
    projects: onlyNamed([
      runbookPhase('preflight', 60_000),
      runbookPhase('deploy', 900_000),
      runbookPhase('smoke', 60_000),
      runbookPhase('gonogo', 30_000),
      runbookPhase('rollback', 300_000),
      {
        plugins: [guard],
        test: {
          name: 'unit',
          env: testEnv,
          include: ['lib/**/*.test.ts', 'staging/**/*.test.ts', 'gonogo/**/*.test.ts', 'runbook/**/*.test.ts'],
          globalSetup: ['lib/harness/test-tmp.ts'],
        },
      },
      {
        plugins: [guard],
        test: {
          name: 'e2e',
          env: testEnv,
          include: ['test/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 900_000,
          globalSetup: ['test/global-setup.ts', 'lib/harness/test-tmp.ts'],
        },
      },
    ]),
  },
});
