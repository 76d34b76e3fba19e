// Runbook 1.4's remedy, "run cleanup before proceeding" when the disk is too full: `docker system prune -f`
// without volumes, and *.log files older than 7 days in the project directory. Run only when asked
// (RUNBOOK_RUN_CLEANUP=1). A prune removes dangling images, and the build a rollback returns to can be one: an image
// that .rollback_state or its history names, or that carries a sha- tag, is tagged to keep before anything is pruned.
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { engine } from '../probes/engine.js';
import { imageInfo, tagImage } from '../probes/docker.js';
import { readHistory, readState } from './rollback-state.js';

/** Log files older than this are the runbook's to delete. */
export const logMaxAgeDays = 7;

export interface CleanupResult {
  /** Bytes the engine says it reclaimed, plus the log files' sizes. */
  freedBytes: number;
  containersRemoved: number;
  imagesRemoved: number;
  logsRemoved: string[];
  /** Rollback images that had no tag and were given one so the prune kept them. */
  kept: string[];
}

/** Image ids a rollback may return to: the saved state's and every one its history names. */
export function rollbackImages(projectDir: string): string[] {
  const ids = new Set<string>();
  const add = (id: string | undefined) => id && id !== 'none' && ids.add(id);
  const state = readState(projectDir);
  add(state?.PREV_API_IMAGE);
  add(state?.PREV_MCP_IMAGE);
  for (const h of readHistory(projectDir)) {
    add(h.state?.PREV_API_IMAGE);
    add(h.state?.PREV_MCP_IMAGE);
    add(h.target?.api);
    add(h.target?.mcp);
  }
  return [...ids];
}

/** Gives every rollback image that has no tag left a `keep-<id>` tag in `repo`: a prune removes untagged images. */
async function keepRollbackImages(projectDir: string, repo: string): Promise<string[]> {
  const kept: string[] = [];
  for (const id of rollbackImages(projectDir)) {
    const info = await imageInfo(id);
    if (!info || info.tags.some((t) => !t.endsWith(':<none>'))) continue;
    await tagImage(id, repo, `keep-${id.replace(/^sha256:/, '').slice(0, 12)}`);
    kept.push(id);
  }
  return kept;
}

/** *.log files under `dir` last modified more than `logMaxAgeDays` ago; links are not followed, .git is left. */
export async function oldLogs(dir: string, now = Date.now()): Promise<Array<{ path: string; bytes: number }>> {
  const out: Array<{ path: string; bytes: number }> = [];
  const walk = async (d: string) => {
    const names = await readdir(d).catch(() => [] as string[]);
    for (const name of names) {
      if (name === '.git') continue;
      const p = join(d, name);
      const s = await lstat(p).catch(() => undefined);
      if (!s) continue;
      if (s.isDirectory()) await walk(p);
      else if (s.isFile() && name.endsWith('.log') && now - s.mtimeMs > logMaxAgeDays * 86_400_000)
        out.push({ path: p, bytes: s.size });
    }
  };
  await walk(dir);
  return out;
}

/** The runbook's cleanup, through the engine's API: what `docker system prune -f` prunes, volumes never. */
export async function runCleanup(opts: { projectDir: string; apiImage: string }): Promise<CleanupResult> {
  const kept = await keepRollbackImages(opts.projectDir, opts.apiImage);
  const long = { method: 'POST' as const, timeoutMs: 10 * 60_000 };
  const containers = await engine<{ ContainersDeleted?: string[]; SpaceReclaimed?: number }>('/containers/prune', long);
  const images = await engine<{ ImagesDeleted?: unknown[]; SpaceReclaimed?: number }>('/images/prune', {
    ...long,
    query: { filters: { dangling: ['true'] } },
  });
  await engine('/networks/prune', long);
  const cache = await engine<{ SpaceReclaimed?: number }>('/build/prune', long).catch(() => ({ SpaceReclaimed: 0 }));
  const logs = await oldLogs(opts.projectDir);
  for (const l of logs) await rm(l.path, { force: true });
  return {
    freedBytes:
      (containers.SpaceReclaimed ?? 0) +
      (images.SpaceReclaimed ?? 0) +
      (cache.SpaceReclaimed ?? 0) +
      logs.reduce((n, l) => n + l.bytes, 0),
    containersRemoved: containers.ContainersDeleted?.length ?? 0,
    imagesRemoved: images.ImagesDeleted?.length ?? 0,
    logsRemoved: logs.map((l) => l.path),
    kept,
  };
}
