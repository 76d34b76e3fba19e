import { run } from '../core/exec.js';
import { CouldNotCheck } from '../core/errors.js';

/**
 * Why git failed, from what it printed: its `fatal:` and `error:` lines, which name the cause; the advice it adds
 * after them ("Please make sure you have the correct access rights...") only when it printed nothing else.
 */
export function gitFailure(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const causes = lines.filter((l) => /^(fatal|error):/.test(l));
  return (causes.length ? causes : lines.slice(-1)).join('; ') || 'no output';
}

async function git(cwd: string, args: string[], timeoutMs = 20_000): Promise<string> {
  const r = await run(['git', ...args] as [string, ...string[]], { cwd, timeoutMs, env: { GIT_TERMINAL_PROMPT: '0' } });
  if (r.timedOut) throw new CouldNotCheck(`git ${args.join(' ')} in ${cwd}: no answer within ${timeoutMs} ms`);
  if (r.exitCode !== 0)
    throw new CouldNotCheck(`git ${args.join(' ')} in ${cwd} exited ${r.exitCode}: ${gitFailure(r.output)}`);
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
  // Each git is a process, and this check is on every preflight's path: one status says branch, upstream and
  // working tree together. Only a branch with an upstream is fetched (a plain fetch asks the branch's own remote),
  // so a remote the deploy branch does not track is never asked, nor waited for.
  const [sha, status] = await Promise.all([
    git(dir, ['rev-parse', '--short', 'HEAD']),
    git(dir, ['status', '--porcelain=v2', '--branch', '--untracked-files=normal']),
  ]);
  const lines = status ? status.split('\n') : [];
  const header = (key: string) => lines.find((l) => l.startsWith(`# branch.${key} `))?.slice(`# branch.${key} `.length);
  const head = header('head') ?? 'HEAD';
  const branch = head === '(detached)' ? 'HEAD' : head;
  const upstream = header('upstream');
  const dirty = lines.filter((l) => !l.startsWith('# '));
  if (upstream === undefined) return { branch, sha, dirty, upstream: undefined, ahead: 0, behind: 0 };
  let fetchError: string | undefined;
  if (opts.fetch ?? true) await git(dir, ['fetch', '--quiet'], 30_000).catch((e: Error) => (fetchError = e.message));
  const counts = await git(dir, ['rev-list', '--left-right', '--count', 'HEAD...@{u}']);
  const [ahead, behind] = counts.split(/\s+/).map(Number);
  return { branch, sha, dirty, upstream, ahead: ahead ?? 0, behind: behind ?? 0, fetchError };
}

export const headSha = (dir: string) => git(dir, ['rev-parse', '--short', 'HEAD']);
