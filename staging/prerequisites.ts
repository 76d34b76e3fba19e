// What the local staging stack needs on the machine: Docker (engine and Compose v1), debootstrap for the base
// image, openssl and git. On a fresh Debian machine as root, `npm run demo` installs what is missing itself
// (through .ci/install.sh, which also starts dockerd and builds the base image); elsewhere it stops and names
// the one command to run.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { run } from '../lib/core/exec.js';
import { repoRoot } from '../lib/harness/config.js';

/** Each command the stack needs, with the Debian package that brings it. */
export const needed: Record<string, string> = {
  dockerd: 'docker.io',
  'docker-compose': 'docker-compose',
  debootstrap: 'debootstrap',
  openssl: 'openssl',
  git: 'git',
};

export const installCommand = 'sudo bash .ci/install.sh';

export type PrerequisitePlan =
  | { action: 'none' }
  | { action: 'install'; packages: string[]; startDocker: boolean }
  | { action: 'stop'; why: string };

export function prerequisitePlan(input: {
  missing: string[];
  dockerAnswers: boolean;
  root: boolean;
}): PrerequisitePlan {
  if (!input.missing.length && input.dockerAnswers) return { action: 'none' };
  const packages = input.missing.map((c) => needed[c] ?? c);
  if (input.root) return { action: 'install', packages, startDocker: !input.dockerAnswers };
  const what = [
    ...(packages.length ? [`missing ${packages.join(', ')}`] : []),
    ...(input.dockerAnswers ? [] : ['no Docker engine answers']),
  ];
  return { action: 'stop', why: `${what.join('; ')}: run \`${installCommand}\` once, then \`npm run demo\` again` };
}

function onPath(command: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Installs what is missing when it can, or throws with the one command to run. */
export async function ensurePrerequisites(log: (m: string) => void): Promise<void> {
  const missing = Object.keys(needed).filter((c) => !onPath(c));
  const dockerAnswers = onPath('docker') && (await run(['docker', 'info'], { timeoutMs: 20_000 })).exitCode === 0;
  const plan = prerequisitePlan({ missing, dockerAnswers, root: process.getuid?.() === 0 });
  if (plan.action === 'none') return;
  if (plan.action === 'stop') throw new Error(plan.why);
  log(
    `installing ${plan.packages.length ? plan.packages.join(', ') : 'nothing new'}${plan.startDocker ? ', starting dockerd' : ''} (bash .ci/install.sh)`,
  );
  const r = await run(['bash', join(repoRoot, '.ci', 'install.sh')], {
    cwd: repoRoot,
    timeoutMs: 30 * 60_000,
    onLine: (l) => log(`  ${l}`),
  });
  if (r.exitCode !== 0) throw new Error(`.ci/install.sh exited ${r.exitCode}; see its output above`);
}
