// The running build as the run started: measured by the first phase setup that needs it, while the tests start,
// and read by the reporter when a phase ends. Both live in Vitest's one main process but in two module graphs
// (the global setups', and the config's reporter), so the measurement is kept on globalThis under a registered
// symbol. Workers never read it, and a measurement still under way cannot travel through `provide`.
import type { Identity } from './identity.js';

const key = Symbol.for('buywhere-runbook.running-at-start');
const shared = globalThis as { [key]?: Promise<Identity> };

/** Starts the measurement once per process; a later phase of the same run keeps the first one's. */
export function measureRunStart(measure: () => Promise<Identity>): void {
  shared[key] ??= measure();
  // Read later, or never: a failure is the reader's to report, not an unhandled rejection now.
  shared[key].catch(() => {});
}

/** The measurement a setup of this run started, or undefined when no phase of the run measures at its start. */
export function runStart(): Promise<Identity> | undefined {
  return shared[key];
}
