// Nothing lost when a deploy or a rollback is SIGKILLed at any of its runbook steps: at each step's start and
// while its build, migration, compose call or wait is under way. The kill points are the phases' own step
// boundaries (RUNBOOK_TEST_KILL_POINT), so every point is reached on every machine, however fast.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageInfo, serviceStates } from '../lib/probes/docker';
import { get } from '../lib/probes/http';
import { historyPath, readState, revisionOf, type HistoryEntry } from '../lib/operations/rollback-state';
import { run } from '../lib/core/exec';
import { commitToProject, killPhaseAt, phase, projectHead, resetFaults, t } from './support/harness';

const deployPoints = [
  'deploy lock',
  ...[1, 2, 3, 4, 5, 6, 7, 8].flatMap((n) =>
    n === 1 ? [`deploy step ${n}`] : [`deploy step ${n}`, `deploy step ${n} in progress`],
  ),
];
const rollbackPoints = [
  'rollback target',
  'rollback step 1',
  'rollback step 1 in progress',
  'rollback step 3',
  'rollback step 3 in progress',
  'rollback step 4',
  'rollback step 4 in progress',
  'rollback step 5',
  'rollback step 6',
  'rollback step 7',
];

let builds: [string, string];
let upstreamHead: string;

const checkout = async (sha: string) => {
  const r = await run(['git', 'reset', '-q', '--hard', sha], { cwd: t.projectDir, timeoutMs: 30_000 });
  expect(r.exitCode, r.output).toBe(0);
};

/** Every history line parses (appends are whole lines), and the state file is the last state history recorded. */
async function expectStateConsistent() {
  const lines = readFileSync(historyPath(t.projectDir), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const history = lines.map((l) => JSON.parse(l) as HistoryEntry);
  const state = readState(t.projectDir);
  expect(state, '.rollback_state parses').toBeDefined();
  expect(
    history.filter((h) => h.state).at(-1)?.state,
    '.rollback_state is the last state in .rollback_history',
  ).toEqual(state);
  for (const image of [state!.PREV_API_IMAGE, state!.PREV_MCP_IMAGE].filter((i) => i !== 'none')) {
    expect(await imageInfo(image), `${image.slice(0, 19)} named by .rollback_state exists`).toBeDefined();
  }
  return history;
}

/** The API answers /health on a running container whose build the history names. */
async function expectHealthyOn(sha: string) {
  const api = (await serviceStates(t.composeProject, ['api'])).get('api');
  expect(api?.state, 'api container').toBe('running');
  const revision = revisionOf(await imageInfo(api!.imageId));
  expect(revision, 'revision of the running api image').toBe(sha);
  const history = readFileSync(historyPath(t.projectDir), 'utf8');
  expect(history, `.rollback_history names ${sha}`).toContain(`"deploySha":"${sha}"`);
  expect((await get(`${t.apiUrl}/health`, { caFile: t.caFile, timeoutMs: 5000 })).status).toBe(200);
}

const running = async () =>
  revisionOf(await imageInfo((await serviceStates(t.composeProject, ['api'])).get('api')!.imageId))!;

beforeAll(async () => {
  await resetFaults();
  const first = await phase('deploy');
  expect(first.exitCode, first.output).toBe(0);
  const a = await projectHead();
  const b = await commitToProject(
    { 'api/build.env': `# build ${Date.now()}\n` },
    'A build to deploy and roll back under SIGKILL',
  );
  const second = await phase('deploy');
  expect(second.exitCode, second.output).toBe(0);
  builds = [a, b];
  upstreamHead = b;
}, 900_000);

afterAll(async () => {
  await checkout(upstreamHead);
  const d = await phase('deploy');
  expect(d.exitCode, d.output).toBe(0);
}, 600_000);

describe('SIGKILL during npm run deploy, at each step', () => {
  it.each(deployPoints)(
    'killed at %s: state whole and consistent; the next deploy succeeds and the API is healthy on the deployed build',
    async (point) => {
      const now = await running();
      const next = builds.find((b) => b !== now) ?? builds[1];
      await checkout(next);

      await killPhaseAt('deploy', point);
      await expectStateConsistent();

      const d = await phase('deploy');
      expect(d.exitCode, d.output).toBe(0);
      if (point !== 'deploy lock')
        expect((d.check('deploy.lock').measured as { took_over: string | null }).took_over).toMatch(
          /took over a stale lock/,
        );
      await expectStateConsistent();
      await expectHealthyOn(next);
    },
    600_000,
  );
});

describe('SIGKILL during npm run rollback, at each step', () => {
  it.each(rollbackPoints)(
    'killed at %s: state whole and consistent; the next rollback completes on the previous build',
    async (point) => {
      await checkout(upstreamHead);
      const d = await phase('deploy');
      expect(d.exitCode, d.output).toBe(0);
      const previous = readState(t.projectDir)!;
      expect(previous.PREV_SHA).not.toBe(upstreamHead);

      await killPhaseAt('rollback', point);
      await expectStateConsistent();

      const r = await phase('rollback');
      expect(r.exitCode, r.output).toBe(0);
      const history = await expectStateConsistent();
      expect(history.at(-1), 'the last history record is the completed rollback').toMatchObject({
        event: 'rollback',
        deploySha: previous.PREV_SHA,
      });
      await expectHealthyOn(previous.PREV_SHA);
      expect((await serviceStates(t.composeProject, ['api'])).get('api')!.imageId).toBe(previous.PREV_API_IMAGE);
    },
    600_000,
  );
});
