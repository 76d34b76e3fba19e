import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Identity } from './identity.js';

export const phases = ['preflight', 'deploy', 'smoke', 'gonogo', 'rollback'] as const;
export type Phase = (typeof phases)[number];

/** pass, fail (checked and failed), error (could not check), skipped (with a reason), not-run (never reached). */
export type CheckStatus = 'pass' | 'fail' | 'error' | 'skipped' | 'not-run';

export interface CheckRecord {
  id: string;
  title: string;
  status: CheckStatus;
  measured?: unknown;
  threshold?: string;
  action?: string;
  advisory?: boolean;
  message?: string;
  durationMs?: number;
  at: string;
}

export interface PhaseEvidence {
  phase: Phase;
  target: string;
  /** The build this evidence vouches for (see the reporter): never simply the checkout's HEAD after a deploy. */
  deploySha: string;
  startedAt: string;
  finishedAt: string;
  /** How the run ended: passed, failed, interrupted; or a setup error that stopped it before any check. */
  outcome: string;
  /** Why the run was not the whole phase; the gate accepts no partial run. */
  partial?: string[];
  /** What the run probed, and the build that was running. */
  identity?: Identity;
  checks: CheckRecord[];
}

export const evidencePath = (reportsDir: string, phase: Phase) => join(reportsDir, 'evidence', `${phase}.json`);

/** Writes through a temporary file, fsync and rename, so a reader never sees half a file. */
export function writeAtomic(path: string, text: string, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // Directory fsync is best effort on filesystems that refuse it.
  }
}

export function writeEvidence(reportsDir: string, e: PhaseEvidence) {
  writeAtomic(evidencePath(reportsDir, e.phase), JSON.stringify(e, null, 2) + '\n');
}

export type ReadResult = { ok: true; evidence: PhaseEvidence } | { ok: false; problem: string };

export function readEvidence(reportsDir: string, phase: Phase): ReadResult {
  const path = evidencePath(reportsDir, phase);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { ok: false, problem: `no ${phase} evidence at ${path}: run \`npm run ${phase}\`` };
  }
  try {
    const e = JSON.parse(text) as PhaseEvidence;
    if (e.phase !== phase || !Array.isArray(e.checks) || typeof e.finishedAt !== 'string') {
      return { ok: false, problem: `${path} is not ${phase} evidence` };
    }
    return { ok: true, evidence: e };
  } catch {
    return { ok: false, problem: `${path} is not valid JSON` };
  }
}
