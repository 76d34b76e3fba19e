import { defineConfig } from 'vitest/config';
import RunbookReporter from './lib/harness/reporter';
import RunbookSequencer from './lib/harness/sequencer';
import { runOnlyWhenNamed } from './lib/harness/project-guard';

const projectArg = process.argv.find((a, i) => process.argv[i - 1] === '--project' || a.startsWith('--project='));
const phase = projectArg?.replace('--project=', '') ?? 'all';

const runbookPhase = (name: string, testTimeout: number, globalSetup = 'lib/harness/phase-setup.ts') => ({
  extends: true as const,
  test: {
    name,
    // Smoke's ten checks run side by side (smoke/smoke.spec.ts); the other phases' tests are sequential.
    maxConcurrency: 10,
    include: [`${name}/**/*.spec.ts`],
    fileParallelism: false,
    // Threads start faster than forks; every runbook phase pays the start-up once per run.
    pool: 'threads' as const,
    testTimeout,
    hookTimeout: testTimeout,
    globalSetup: [globalSetup],
  },
});

export default defineConfig({
  plugins: [runOnlyWhenNamed(['unit'])],
  test: {
    sequence: { sequencer: RunbookSequencer },
    reporters: ['default', new RunbookReporter(), ['html', { outputFile: `reports/html/${phase}/index.html` }]],
    projects: [
      runbookPhase('preflight', 60_000),
      runbookPhase('deploy', 900_000),
      runbookPhase('smoke', 60_000),
      runbookPhase('gonogo', 30_000, 'gonogo/setup.ts'),
      runbookPhase('rollback', 300_000),
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['lib/**/*.test.ts', 'staging/**/*.test.ts', 'gonogo/**/*.test.ts', 'runbook/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 900_000,
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
