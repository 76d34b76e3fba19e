import { run, type Argv, type RunOptions, type RunResult } from '../core/exec.js';

/** `docker compose` (v2 plugin) or `docker-compose` (v1). Both take the same arguments for what we use. */
export type ComposeFlavour = 'v2' | 'v1';

export interface ComposeProject {
  flavour: ComposeFlavour;
  file: string;
  projectDir: string;
  projectName: string;
}

let detected: Promise<ComposeFlavour> | undefined;

/** Tries `docker compose version`, then falls back to `docker-compose version`. */
export function detectCompose(): Promise<ComposeFlavour> {
  detected ??= (async () => {
    const v2 = await run(['docker', 'compose', 'version'], { timeoutMs: 10_000 }).catch(() => undefined);
    if (v2?.exitCode === 0) return 'v2';
    const v1 = await run(['docker-compose', 'version'], { timeoutMs: 10_000 }).catch(() => undefined);
    if (v1?.exitCode === 0) return 'v1';
    throw new Error('neither `docker compose` nor `docker-compose` answers; install Docker Compose v2 or v1');
  })();
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
