// The gate as the harness runs it: read the evidence (load.ts), then decide (decide.ts). A malformed file the
// rules did not foresee still gives a HOLD with its reason, never a thrown error.
import type { SealKey } from '../lib/core/seal.js';
import { evidenceDir } from '../lib/harness/evidence.js';
import type { Identity } from '../lib/harness/identity.js';
import type { JudgeSettings } from '../runbook/catalogue.js';
import { decide, holdEverything, type GateResult } from './decide.js';
import { load } from './load.js';

export interface GateInput {
  reportsDir: string;
  target: string;
  /** The gate's own view: endpoints, CA, directories and the running build. */
  identity: Identity;
  settings: JudgeSettings;
  now?: Date;
  maxAgeMin: number;
  /** The key the phases sealed their evidence with; evidence it does not verify is HOLD. */
  sealKey: SealKey;
  overrides?: GateResult['overrides'];
}

/** Reads the folder's evidence and decides; throws only on what the rules did not foresee. */
export function evaluateGate(input: GateInput): GateResult {
  const settings = { ...input.settings, target: input.target, maxAgeMin: input.maxAgeMin };
  return decide(load(input.reportsDir, input.sealKey), input.identity, settings, input.now ?? new Date());
}

/** evaluateGate that never throws: whatever goes wrong reading or deciding is a HOLD with its reason. */
export function gateDecision(input: GateInput): GateResult {
  try {
    return { ...evaluateGate(input), overrides: input.overrides ?? [] };
  } catch (err) {
    return {
      ...holdEverything(`the gate could not read the evidence: ${(err as Error).message}`, {
        evidenceDir: evidenceDir(input.reportsDir),
        target: input.target,
        deploySha: input.identity.build,
        now: input.now,
      }),
      identity: input.identity,
      overrides: input.overrides ?? [],
    };
  }
}
