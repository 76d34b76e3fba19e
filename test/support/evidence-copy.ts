// Gate fixtures built from earlier runs: a phase's evidence file copied byte for byte into another reports folder,
// and recorded there as the last run of that phase, as if that run had written to it. Only a file whose seal
// verifies is recorded, so an edited or unsealed copy still meets the gate's seal rule.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { sealProblem, readSealKey } from '../../lib/core/seal';
import { evidenceKeyFileFrom } from '../../lib/harness/config';
import { evidenceDir, evidencePath, type Phase } from '../../lib/harness/evidence';
import { recordWritten } from '../../lib/harness/last-run';

export function copyEvidence(from: string, to: string, phase: Phase, keyFile = evidenceKeyFileFrom()) {
  mkdirSync(evidenceDir(to), { recursive: true });
  copyFileSync(evidencePath(from, phase), evidencePath(to, phase));
  const e = JSON.parse(readFileSync(evidencePath(to, phase), 'utf8')) as Record<string, unknown>;
  if (sealProblem(e, readSealKey(keyFile)) === undefined)
    recordWritten(keyFile, to, phase, String(e.startedAt), String(e.seal));
}
