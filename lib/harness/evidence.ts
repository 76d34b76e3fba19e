import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../core/atomic.js';
import { ensureSealKey, sealed } from '../core/seal.js';
import { evidenceKeyFileFrom } from './config.js';
import type { Identity } from './identity.js';
import { recordStart, recordWritten } from './last-run.js';

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
  /** The spec file the check ran in, relative to the repository. */
  file?: string;
  at: string;
}

export interface PhaseEvidence {
  phase: Phase;
  target: string;
  /**
   * The vouched-for build: the one this evidence speaks for, as its spec declared it (check.vouchesFor): the
   * checkout preflight checked, the build deploy put in place, the build rollback restored; for smoke and the
   * gate, the running build that answered. The name is kept for the readers of the artefact; it is never simply
   * the checkout's HEAD after a deploy.
   */
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
  /** The HMAC over the rest (lib/core/seal.ts), or why the run could not seal it. */
  seal?: string;
  unsealed?: string;
}

/**
 * Carried by the reporter that writes the evidence and scrubs secrets from the run's output: a run without it
 * (a `--reporter` flag replaces the configured reporters) does not start. A registered symbol, because the config
 * and the setup load the reporter's module separately.
 */
export const writesEvidence = Symbol.for('buywhere-runbook.writes-evidence');

/** Where each phase's evidence is written, as one file per phase. */
export const evidenceDir = (reportsDir: string) => join(reportsDir, 'evidence');
export const evidencePath = (reportsDir: string, phase: Phase) => join(evidenceDir(reportsDir), `${phase}.json`);

/**
 * Writes a phase's evidence sealed under the key at `keyFile`, which the gate verifies, and records it beside the
 * key as the last run of that phase to write to this folder.
 */
export function writeEvidence(reportsDir: string, e: PhaseEvidence, keyFile = evidenceKeyFileFrom()) {
  const body = sealed(e, ensureSealKey(keyFile));
  writeAtomic(evidencePath(reportsDir, e.phase), JSON.stringify(body, null, 2) + '\n');
  if (!body.seal) return;
  try {
    recordWritten(keyFile, reportsDir, e.phase, e.startedAt, body.seal);
  } catch (err) {
    // The gate holds on this evidence ("wrote no evidence"); the run still ends with its results on screen.
    process.stderr.write(`${e.phase}: the evidence could not be recorded as this run's: ${(err as Error).message}\n`);
  }
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

const launchNotePath = (reportsDir: string) => join(evidenceDir(reportsDir), 'launch.json');

/** `npm run launch` notes where it stopped before the gate; the gate shows it as the HOLD reason. */
export function writeLaunchStop(reportsDir: string, stopped: string) {
  writeAtomic(launchNotePath(reportsDir), JSON.stringify({ stopped, at: new Date().toISOString() }) + '\n');
}

export function clearLaunchStop(reportsDir: string) {
  rmSync(launchNotePath(reportsDir), { force: true });
}

export function readLaunchStop(reportsDir: string): string | undefined {
  try {
    const note = JSON.parse(readFileSync(launchNotePath(reportsDir), 'utf8')) as { stopped?: unknown };
    return typeof note.stopped === 'string' && note.stopped ? note.stopped : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Forgets a phase's evidence, so a run that dies early never leaves an older result behind, and records that a run
 * started: an older file put back in its place does not count either.
 */
export function forgetEvidence(
  reportsDir: string,
  phase: Phase,
  startedAt = new Date().toISOString(),
  keyFile = evidenceKeyFileFrom(),
) {
  rmSync(evidencePath(reportsDir, phase), { force: true });
  const problem = recordStart(keyFile, reportsDir, phase, startedAt);
  if (problem) process.stderr.write(`${phase}: ${problem}\n`);
}

/** What the gate wrote (evidence/gate.json): its decision and the identity it decided with; undefined when none. */
export function readGateRecord(reportsDir: string): { decision?: 'GO' | 'HOLD'; identity?: Identity } | undefined {
  try {
    return JSON.parse(readFileSync(join(evidenceDir(reportsDir), 'gate.json'), 'utf8')) as {
      decision?: 'GO' | 'HOLD';
      identity?: Identity;
    };
  } catch {
    return undefined;
  }
}
