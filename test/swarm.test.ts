// The staging stack on a real single-node Docker Swarm, read by the runbook through the orchestrator seam
// (RUNBOOK_ORCHESTRATOR=swarm). It binds the same ports as the Compose stack, so this file runs after every other
// (lib/harness/sequencer.ts) and brings the Compose stack back when it ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/core/exec';
import { repoRoot } from '../lib/harness/config';
import { stagingUp } from '../staging/project';
import { stackServices, stagingDownSwarm, stagingUpSwarm, swarmState } from '../staging/swarm';
import { status } from '../scripts/status';
import { phase, projectHead, t, warmUp } from './support/harness';

const log = (m: string) => process.stderr.write(`staging (swarm): ${m}\n`);
const onSwarm = { RUNBOOK_ORCHESTRATOR: 'swarm' };

beforeAll(async () => {
  await stagingUpSwarm(log);
  await warmUp();
}, 900_000);

afterAll(async () => {
  await stagingDownSwarm(log);
  await stagingUp(log);
}, 900_000);

describe('staging on a single-node swarm (npm run staging:up -- --swarm)', () => {
  it('staging:up and staging:down say so in their --help; --swarm with another command is refused', async () => {
    for (const cmd of ['up', 'down']) {
      const help = await run(['npx', 'tsx', 'staging/cli.ts', cmd, '--help'], { cwd: repoRoot });
      expect(help.exitCode).toBe(0);
      expect(help.output).toMatch(/--swarm +up: stop the Compose stack .* down: remove that stack and leave the swarm/);
    }
    const wrong = await run(['npx', 'tsx', 'staging/cli.ts', 'build', '--swarm'], { cwd: repoRoot });
    expect(wrong.exitCode).toBe(2);
    expect(wrong.output).toContain('--swarm applies to up and down only, not build');
  });

  it('is a swarm of one manager, and every service of the stack runs as one replica', async () => {
    expect(await swarmState()).toBe('active');
    const services = await stackServices(t.composeProject);
    expect([...services.keys()].sort()).toEqual(
      expect.arrayContaining(['api', 'db', 'db_replica', 'mcp', 'pgbouncer', 'redis']),
    );
    const compose = await run([
      'docker',
      'ps',
      '--filter',
      `label=com.docker.compose.project=${t.composeProject}`,
      '-q',
    ]);
    expect(compose.output.trim(), 'no Compose container runs beside the stack').toBe('');
  });

  it('npm run status lists services, their tasks (slot, node, state, image) and the node', async () => {
    const text = await status({ ...process.env, ...onSwarm });
    expect(text).toContain(`Services (swarm stack ${t.composeProject})`);
    const head = await projectHead();
    expect(text).toMatch(new RegExp(`api +1/1 running`));
    expect(text).toMatch(new RegExp(`api\\.1 +running +on \\S+ +buywhere-api:sha-${head}`));
    expect(text).toMatch(/nodes:\n +\S+ +ready, active, manager/);
  });

  it('preflight 1.3 and smoke pass on the stack, and smoke vouches for the revision its API task runs', async () => {
    const pre = await phase('preflight', { env: onSwarm });
    const db = pre.evidence.checks.filter((c) => c.id.startsWith('preflight.1.3'));
    expect(db.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
    const smoke = await phase('smoke', { env: onSwarm });
    expect(smoke.exitCode, smoke.output.slice(-3000)).toBe(0);
    expect(smoke.evidence.deploySha).toBe(await projectHead());
    expect(smoke.evidence.identity?.buildSources?.docker).toBe(await projectHead());
  });

  it('deploy and rollback refuse to start on Swarm, saying so, and change nothing', async () => {
    for (const p of ['deploy', 'rollback'] as const) {
      const r = await phase(p, { env: { ...onSwarm, RUNBOOK_DRY_RUN: '0' } });
      expect(r.exitCode, r.output.slice(-2000)).toBe(2);
      expect(r.evidence.outcome).toMatch(/RUNBOOK_ORCHESTRATOR=swarm.*Compose only/);
    }
    const services = await stackServices(t.composeProject);
    expect(services.get('api')?.Spec.Mode?.Replicated?.Replicas).toBe(1);
  });
});
