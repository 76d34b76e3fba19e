import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { run, type Argv, type RunOptions, type RunResult } from '../core/exec.js';

/** `docker compose` (v2 plugin) or `docker-compose` (v1). Both take the same arguments for what we use. */
export type ComposeFlavour = 'v2' | 'v1';

export interface ComposeProject {
  flavour: ComposeFlavour;
  file: string;
  projectDir: string;
  projectName: string;
}

/** Where the Docker CLI looks for its plugins on Linux, in its own order ($DOCKER_CONFIG or ~/.docker first). */
export function cliPluginDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [
    join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'cli-plugins'),
    '/usr/local/lib/docker/cli-plugins',
    '/usr/local/libexec/docker/cli-plugins',
    '/usr/lib/docker/cli-plugins',
    '/usr/libexec/docker/cli-plugins',
  ];
}

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/**
 * `docker compose` when the Compose v2 plugin is installed where the Docker CLI finds it, else `docker-compose`
 * (v1) when it is on PATH. Found by looking at the files, not by running either: `docker-compose version` alone
 * costs a Python start-up (a second or more on a busy host) in every deploy and rollback.
 */
export function composeFlavourFrom(pluginDirs: string[], path: string): ComposeFlavour {
  if (pluginDirs.some((d) => executable(join(d, 'docker-compose')))) return 'v2';
  if (path.split(delimiter).some((d) => d && executable(join(d, 'docker-compose')))) return 'v1';
  throw new Error(
    `neither the Docker Compose v2 plugin (docker-compose in ${pluginDirs.join(', ')}) nor docker-compose (v1) on PATH was found; install one`,
  );
}

let detected: Promise<ComposeFlavour> | undefined;

export function detectCompose(): Promise<ComposeFlavour> {
  detected ??= (async () => composeFlavourFrom(cliPluginDirs(), process.env.PATH ?? ''))();
  return detected;
}

function base(p: ComposeProject): string[] {
  const head = p.flavour === 'v2' ? ['docker', 'compose'] : ['docker-compose'];
  return [...head, '--project-directory', p.projectDir, '-p', p.projectName, '-f', p.file];
}

export const composeArgs = {
  build: (p: ComposeProject, services: string[] = []): Argv =>
    [...base(p), 'build', '--parallel', ...services] as unknown as Argv,
  up: (p: ComposeProject, services: string[]): Argv =>
    [...base(p), 'up', '-d', '--no-deps', ...services] as unknown as Argv,
  stop: (p: ComposeProject, services: string[]): Argv => [...base(p), 'stop', ...services] as unknown as Argv,
  /** `env` names variables passed through from the caller's environment (`-e NAME`), so values stay off argv. */
  runRm: (p: ComposeProject, service: string, command: string[] = [], env: string[] = []): Argv =>
    [...base(p), 'run', '--rm', '-T', ...env.flatMap((e) => ['-e', e]), service, ...command] as unknown as Argv,
  down: (p: ComposeProject, volumes: boolean): Argv =>
    [...base(p), 'down', '--remove-orphans', ...(volumes ? ['-v'] : [])] as unknown as Argv,
};

export function compose(p: ComposeProject, argv: Argv, opts: RunOptions = {}): Promise<RunResult> {
  return run(argv, { cwd: p.projectDir, ...opts });
}
