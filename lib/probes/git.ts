import { run } from '../core/exec.js';
import { CouldNotCheck } from '../core/errors.js';

async function git(cwd: string, args: string[], timeoutMs = 20_000): Promise<string> {
  const r = await run(['git', ...args] as [string, ...string[]], { cwd, timeoutMs, env: { GIT_TERMINAL_PROMPT: '0' } });
  if (r.timedOut) throw new CouldNotCheck(`git ${args.join(' ')} in ${cwd}: no answer within ${timeoutMs} ms`);
  if (r.exitCode !== 0)
    throw new CouldNotCheck(`git ${args.join(' ')} in ${cwd}: ${r.output.trim().split('\n').at(-1)}`);
  return r.output.trim();
}

export interface GitState {
  branch: string;
  sha: string;
  dirty: string[];
  upstream: string | undefined;
  ahead: number;
  behind: number;
  fetchError?: string;
}

/** Working tree, branch and position against the upstream, after a fetch so "behind" is current. */
export async function gitState(dir: string, opts: { fetch?: boolean } = {}): Promise<GitState> {
  // Independent reads run side by side: each git is a process, and this check is on every preflight's path.
  const [sha, branch, status, upstream] = await Promise.all([
    git(dir, ['rev-parse', '--short', 'HEAD']),
    git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']),
    git(dir, ['status', '--porcelain', '--untracked-files=normal']),
    git(dir, ['rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{u}']).catch(() => undefined),
  ]);
  const dirty = status ? status.split('\n') : [];
  if (upstream === undefined) return { branch, sha, dirty, upstream: undefined, ahead: 0, behind: 0 };
  let fetchError: string | undefined;
  if (opts.fetch ?? true) {
    const remote = upstream.split('/')[0]!;
    await git(dir, ['fetch', '--quiet', remote], 30_000).catch((e: Error) => (fetchError = e.message));
  }
  const counts = await git(dir, ['rev-list', '--left-right', '--count', 'HEAD...@{u}']);
  const [ahead, behind] = counts.split(/\s+/).map(Number);
  return { branch, sha, dirty, upstream, ahead: ahead ?? 0, behind: behind ?? 0, fetchError };
}

export const headSha = (dir: string) => git(dir, ['rev-parse', '--short', 'HEAD']);
