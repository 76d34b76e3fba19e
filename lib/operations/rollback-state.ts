// The only writer of .rollback_state and its history. The state stays shell-sourceable, as the runbook's
// `source .rollback_state` expects; every write is atomic and every record is also appended to history.
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../core/atomic.js';

export interface RollbackState {
  PREV_API_IMAGE: string;
  PREV_MCP_IMAGE: string;
  PREV_SHA: string;
  DEPLOY_TIME: string;
  /** The SHA this deploy ships; not in the runbook's file, kept so a rollback can tell builds apart. */
  DEPLOY_SHA?: string;
  /**
   * The previous API image as a registry names it (`<registry>/buywhere-api@sha256:…`), when it went through one: the
   * bytes every node pulls back on a rollback. Not in the runbook's file; absent on one host.
   */
  PREV_API_DIGEST?: string;
}

export interface HistoryEntry {
  /** `rollback-started` is written before a rollback stops anything; `rollback` when it has finished. */
  event: 'deploy' | 'rollback' | 'rollback-started' | 'deploy-kept-state' | 'engine-rollback';
  at: string;
  deploySha?: string;
  state?: RollbackState;
  /** The images a started rollback restores, and the build it rolls back from. */
  target?: { api: string; mcp?: string; sha: string; from: string };
  note?: string;
}

/**
 * The rollback that was started and never finished (killed, or failed part-way), when no deploy or rollback
 * has completed since: a new rollback resumes it rather than stepping one build further back.
 */
export function interruptedRollback(
  history: HistoryEntry[],
): (HistoryEntry & { target: NonNullable<HistoryEntry['target']> }) | undefined {
  const last = [...history]
    .reverse()
    .find((h) => h.event === 'deploy' || h.event === 'rollback' || h.event === 'rollback-started');
  return last?.event === 'rollback-started' && last.target
    ? (last as HistoryEntry & { target: NonNullable<HistoryEntry['target']> })
    : undefined;
}

export const statePath = (dir: string) => join(dir, '.rollback_state');
export const historyPath = (dir: string) => join(dir, '.rollback_history');

const safe = /^[A-Za-z0-9:._@\/-]*$/;

export function formatState(s: RollbackState): string {
  const keys: Array<keyof RollbackState> = [
    'PREV_API_IMAGE',
    'PREV_MCP_IMAGE',
    'PREV_SHA',
    'DEPLOY_TIME',
    'DEPLOY_SHA',
    'PREV_API_DIGEST',
  ];
  return (
    keys
      .filter((k) => s[k] !== undefined)
      .map((k) => {
        const v = s[k]!;
        if (!safe.test(v))
          throw new Error(`refusing to write ${k}: ${JSON.stringify(v)} is not a plain image id, tag or SHA`);
        return `${k}="${v}"`;
      })
      .join('\n') + '\n'
  );
}

export function parseState(text: string): RollbackState {
  const v: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const m = /^([A-Z_]+)="([^"]*)"$/.exec(line.trim());
    if (!m) throw new Error(`.rollback_state: unexpected line ${JSON.stringify(line.slice(0, 60))}`);
    v[m[1]!] = m[2]!;
  }
  for (const k of ['PREV_API_IMAGE', 'PREV_MCP_IMAGE', 'PREV_SHA', 'DEPLOY_TIME']) {
    if (v[k] === undefined) throw new Error(`.rollback_state: ${k} is missing`);
  }
  return v as unknown as RollbackState;
}

export function readState(dir: string): RollbackState | undefined {
  let text: string;
  try {
    text = readFileSync(statePath(dir), 'utf8');
  } catch {
    return undefined;
  }
  return parseState(text);
}

export function appendHistory(dir: string, entry: HistoryEntry) {
  appendFileSync(historyPath(dir), JSON.stringify(entry) + '\n', { mode: 0o644 });
  const fd = openSync(historyPath(dir), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** History entries; a torn last line (the writer was killed mid-append) is ignored, not fatal. */
export function readHistory(dir: string): HistoryEntry[] {
  let text = '';
  try {
    text = readFileSync(historyPath(dir), 'utf8');
  } catch {
    return [];
  }
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as HistoryEntry);
    } catch {
      // A torn line from a killed writer.
    }
  }
  return out;
}

/** Writes the state atomically (temp file, fsync, rename), then records it in history. */
export function saveState(dir: string, s: RollbackState, event: HistoryEntry['event'] = 'deploy', note?: string) {
  writeAtomic(statePath(dir), formatState(s));
  appendHistory(dir, { event, at: new Date().toISOString(), deploySha: s.DEPLOY_SHA, state: s, note });
}

export interface ImageRef {
  id: string;
  tags: string[];
  /** `repo@sha256:…` for each registry the image went through. */
  digests?: string[];
  labels: Record<string, string>;
  created?: string;
}

/** The git SHA an image was built from: its revision label, else its sha- tag. */
export function revisionOf(img: ImageRef | undefined): string | undefined {
  if (!img) return undefined;
  const label = img.labels['org.opencontainers.image.revision'];
  if (label && label !== 'unknown') return label;
  return img.tags.map((t) => /:sha-([0-9a-f]+)$/.exec(t)?.[1]).find(Boolean);
}

export type StatePlan = { action: 'write'; state: RollbackState; note?: string } | { action: 'keep'; note: string };

/**
 * Decides what deploy step 1 saves. The previous images are the ones being replaced, and PREV_SHA is
 * their build's SHA (the runbook wrote the new SHA there). A redeploy of the SHA already running must not
 * overwrite a usable state with the image it is about to rebuild.
 */
export function planDeployState(input: {
  deployedBuild: string;
  now: string;
  currentApi?: ImageRef;
  currentMcp?: ImageRef;
  existing?: RollbackState;
  apiCandidates: ImageRef[];
  mcpCandidates: ImageRef[];
}): StatePlan {
  const base = { DEPLOY_TIME: input.now, DEPLOY_SHA: input.deployedBuild };
  const currentRev = revisionOf(input.currentApi);
  if (input.currentApi && currentRev !== input.deployedBuild) {
    return {
      action: 'write',
      state: {
        ...base,
        PREV_API_IMAGE: input.currentApi.id,
        PREV_MCP_IMAGE: input.currentMcp?.id ?? 'none',
        PREV_SHA: currentRev ?? 'unknown',
        ...(input.currentApi.digests?.[0] ? { PREV_API_DIGEST: input.currentApi.digests[0] } : {}),
      },
    };
  }
  const ex = input.existing;
  if (ex && ex.PREV_API_IMAGE !== 'none' && ex.PREV_SHA !== input.deployedBuild) {
    return {
      action: 'keep',
      note: `${input.deployedBuild} is already the running build; keeping the saved previous build ${ex.PREV_SHA}`,
    };
  }
  const before = input.currentApi?.created;
  const older = input.apiCandidates.find((i) => {
    const r = revisionOf(i);
    return r && r !== input.deployedBuild && (!before || !i.created || i.created < before);
  });
  if (older) {
    const rev = revisionOf(older)!;
    const mcp = input.mcpCandidates.find((i) => revisionOf(i) === rev);
    return {
      action: 'write',
      state: { ...base, PREV_API_IMAGE: older.id, PREV_MCP_IMAGE: mcp?.id ?? 'none', PREV_SHA: rev },
      note: `${input.deployedBuild} is already the running build; the previous build is the newest other sha- image, ${rev}`,
    };
  }
  return {
    action: 'write',
    state: { ...base, PREV_API_IMAGE: 'none', PREV_MCP_IMAGE: 'none', PREV_SHA: 'none' },
    note: input.currentApi
      ? 'no earlier build exists: nothing to roll back to'
      : 'first deploy: nothing to roll back to',
  };
}

export type RollbackTarget =
  | { ok: true; api: string; mcp: string | undefined; sha: string; source: string }
  | { ok: false; why: string; action: string };

const listHint =
  'list the candidates with: docker images buywhere-api --format "table {{.Tag}}\\t{{.ID}}\\t{{.CreatedAt}}" | grep sha';

/**
 * Where a rollback goes: the images in .rollback_state when they still exist and are not what runs now;
 * else, as the runbook says, the most recent prior sha- tagged image, never the one currently running.
 */
export function chooseRollbackTarget(input: {
  state: RollbackState | undefined;
  stateError?: string;
  /** A started rollback that never finished; resumed when its images still exist. */
  interrupted?: HistoryEntry;
  existingIds: Set<string>;
  runningApiIds: Set<string>;
  apiImages: ImageRef[];
  mcpImages: ImageRef[];
  /** On Swarm: the image the api service's PreviousSpec names, the build the engine's last update replaced. */
  previousSpec?: ImageRef;
}): RollbackTarget {
  const s = input.state;
  const problems: string[] = [];
  const resume = input.interrupted?.target;
  if (resume && input.existingIds.has(resume.api)) {
    const mcp = resume.mcp && input.existingIds.has(resume.mcp) ? resume.mcp : undefined;
    return {
      ok: true,
      api: resume.api,
      mcp,
      sha: resume.sha,
      source: `resuming the rollback to sha-${resume.sha} started at ${input.interrupted!.at}, which did not finish`,
    };
  }
  if (resume) problems.push(`the unfinished rollback's image ${resume.api.slice(0, 19)} no longer exists`);
  if (input.stateError) problems.push(`.rollback_state unreadable (${input.stateError})`);
  if (s) {
    if (s.PREV_API_IMAGE === 'none') problems.push('.rollback_state says there is no previous build');
    else if (!input.existingIds.has(s.PREV_API_IMAGE))
      problems.push(`PREV_API_IMAGE ${s.PREV_API_IMAGE.slice(0, 19)} no longer exists`);
    else if (input.runningApiIds.has(s.PREV_API_IMAGE))
      problems.push(`PREV_API_IMAGE ${s.PREV_API_IMAGE.slice(0, 19)} is the build running now`);
    else {
      const mcp = s.PREV_MCP_IMAGE !== 'none' && input.existingIds.has(s.PREV_MCP_IMAGE) ? s.PREV_MCP_IMAGE : undefined;
      return { ok: true, api: s.PREV_API_IMAGE, mcp, sha: s.PREV_SHA, source: '.rollback_state' };
    }
  } else if (!input.stateError) problems.push('.rollback_state is missing');
  const previous = input.previousSpec;
  if (previous && !input.runningApiIds.has(previous.id) && revisionOf(previous)) {
    const sha = revisionOf(previous)!;
    const mcp = input.mcpImages.find((i) => revisionOf(i) === sha);
    return {
      ok: true,
      api: previous.id,
      mcp: mcp?.id,
      sha,
      source: `the api service's PreviousSpec (${problems.join('; ')})`,
    };
  }
  if (previous)
    problems.push(
      input.runningApiIds.has(previous.id)
        ? "the api service's PreviousSpec is the build running now"
        : "the api service's PreviousSpec names an image with no revision",
    );
  // "Prior" means built before what runs now: after one rollback, the bad build is newer and must never be
  // picked as the target of the next.
  const runningCreated = input.apiImages
    .filter((i) => input.runningApiIds.has(i.id))
    .map((i) => i.created ?? '')
    .sort()
    .at(0);
  const prior = input.apiImages.find(
    (i) =>
      i.tags.some((t) => /:sha-/.test(t)) &&
      !input.runningApiIds.has(i.id) &&
      (!runningCreated || !i.created || i.created < runningCreated),
  );
  if (prior) {
    const sha = revisionOf(prior) ?? 'unknown';
    const mcp = input.mcpImages.find((i) => revisionOf(i) === sha);
    return { ok: true, api: prior.id, mcp: mcp?.id, sha, source: `newest prior sha- image (${problems.join('; ')})` };
  }
  return {
    ok: false,
    why: `nothing to roll back to: ${problems.join('; ')}, and no sha- tagged image other than the running one`,
    action: listHint,
  };
}
