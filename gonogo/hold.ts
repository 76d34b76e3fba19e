// The gate's artefacts, and a HOLD written to them where the gate made no decision: it could not start, or a
// later phase withdrew its decision. The gate and its renderers load only then.
import { join } from 'node:path';
import { evidenceDir } from '../lib/harness/evidence.js';
import type { GateResult } from './decide.js';

/** Every file the gate writes a decision to, relative to the reports folder. */
export const gateArtefacts = ['gonogo.junit.xml', 'gonogo.html', 'gonogo.md', join('evidence', 'gate.json')];

/**
 * Writes all four artefacts saying HOLD for `reason`. The reasons given here name no setting's value. A reason of
 * several lines (a configuration error listing each setting) is put on one: the status post shows each reason's
 * first line only, and "4 settings need fixing:" alone would name none of them.
 */
export async function writeHold(
  reason: string,
  base: { reportsDir: string; target: string; deploySha: string },
  extra: Partial<GateResult> = {},
): Promise<void> {
  const [{ holdEverything }, { writeGateArtefacts }] = await Promise.all([
    import('./decide.js'),
    import('./artefacts.js'),
  ]);
  const oneLine = reason
    .replace(/:\s*\n\s*(?:- )?/g, ': ')
    .replace(/\s*\n\s*(?:- )?/g, '; ')
    .replace(/ {2,}/g, ' ');
  writeGateArtefacts(
    { ...holdEverything(oneLine, { ...base, evidenceDir: evidenceDir(base.reportsDir) }), ...extra },
    base.reportsDir,
    [],
  );
}
