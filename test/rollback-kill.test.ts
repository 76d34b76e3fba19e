// Nothing lost: a rollback killed with SIGKILL at any step leaves .rollback_state and its history
// parseable, and either the rollback had already restored the previous build or a new one completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageInfo, serviceStates } from '../lib/docker';
import { historyPath, readHistory, readState } from '../lib/rollback-state';
import { readFileSync } from 'node:fs';
import { commitToProject, killPhaseAfter, phase, resetFaults, t } from './support/harness';

let previous: string;

beforeAll(async () => {
  await resetFaults();
  const d = await phase('deploy');
  expect(d.exitCode, d.output).toBe(0);
  previous = (await imageInfo(`${t.apiImage}:latest`))!.id;
  await commitToProject({ 'api/build.env': `# build ${Date.now()}\n` }, 'Build to roll back from');
}, 600_000);

afterAll(async () => {
  const d = await phase('deploy');
  expect(d.exitCode, d.output).toBe(0);
}, 600_000);

describe('SIGKILL during npm run rollback', () => {
  it.each([1500, 3000, 4500, 6500])('killed after %i ms: state intact, and the previous build is or can be restored', async (afterMs) => {
    const d = await phase('deploy');
    expect(d.exitCode, d.output).toBe(0);
    expect(readState(t.projectDir)!.PREV_API_IMAGE).toBe(previous);

    await killPhaseAfter('rollback', afterMs);

    expect(readState(t.projectDir)!.PREV_API_IMAGE).toBe(previous);
    const lines = readFileSync(historyPath(t.projectDir), 'utf8').trim().split('\n');
    expect(readHistory(t.projectDir).length).toBeGreaterThanOrEqual(lines.length - 1);

    const api = (await serviceStates(t.composeProject, ['api'])).get('api');
    if (!(api?.state === 'running' && api.imageId === previous)) {
      const r = await phase('rollback');
      expect(r.exitCode, r.output).toBe(0);
    }
    const after = (await serviceStates(t.composeProject, ['api'])).get('api')!;
    expect([after.state, after.imageId]).toEqual(['running', previous]);
  }, 300_000);
});
