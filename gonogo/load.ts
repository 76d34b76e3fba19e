// What the gate decides from, read from disk in one place: each phase's evidence file parsed, its seal verified,
// and whether it is the last run's; and the launch's stop note. Every problem met while reading is kept as a value
// for `decide` (decide.ts), which reads no file itself.
import { readFileSync } from 'node:fs';
import { sealProblem, type SealKey } from '../lib/core/seal.js';
import { evidenceDir, evidencePath, readLaunchStop } from '../lib/harness/evidence.js';
import { lastRunProblem } from '../lib/harness/last-run.js';

/** One phase's evidence file as read: its JSON, or why there is none; and what its seal and run record say. */
export interface PhaseFile {
  phase: GatePhase;
  path: string;
  /** The parsed JSON, when the file exists and parses (any shape: decide checks it). */
  raw?: unknown;
  /** No file at all: that phase has not run into this folder. */
  absent?: boolean;
  /** The file exists and cannot be read, or is not JSON. */
  unreadable?: boolean;
  /** Why the seal does not verify; unset when it does. */
  unsealed?: string;
  /** Why the file is not the last run's; unset when it is. */
  replayed?: string;
}

export const gatePhases = ['preflight', 'deploy', 'smoke', 'rollback'] as const;
export type GatePhase = (typeof gatePhases)[number];

export interface LoadedEvidence {
  evidenceDir: string;
  files: Record<GatePhase, PhaseFile>;
  /** Why `npm run launch` stopped before the gate, when it did. */
  launchStop?: string;
}

function readPhase(reportsDir: string, phase: GatePhase, key: SealKey): PhaseFile {
  const path = evidencePath(reportsDir, phase);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? { phase, path, absent: true }
      : { phase, path, unreadable: true };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { phase, path, unreadable: true };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { phase, path, raw };
  const record = raw as Record<string, unknown>;
  const unsealed = sealProblem(record, key);
  const replayed =
    !unsealed && key.ok ? lastRunProblem(key.file, reportsDir, phase, record.seal, record.startedAt) : undefined;
  return { phase, path, raw, unsealed, replayed };
}

export function load(reportsDir: string, key: SealKey): LoadedEvidence {
  const files = Object.fromEntries(gatePhases.map((p) => [p, readPhase(reportsDir, p, key)])) as Record<
    GatePhase,
    PhaseFile
  >;
  return { evidenceDir: evidenceDir(reportsDir), files, launchStop: readLaunchStop(reportsDir) };
}
