// What the gate's spec hands the harness's main process: its decision and the identity it decided with, on each of
// its tests' metadata. The reporter writes the gate's evidence from it and makes the exit code the decision's;
// nothing reads gate.json back, which stays an artefact for people and tools.
import type { TestModule } from 'vitest/node';
import type { Identity } from './identity.js';

export interface GateMeta {
  decision: 'GO' | 'HOLD';
  identity?: Identity;
}

declare module 'vitest' {
  interface TaskMeta {
    gate?: GateMeta;
  }
}

/** The decision this run's gate made, from any of its tests that ran; undefined when none did. */
export function gateOf(mods: ReadonlyArray<TestModule>): GateMeta | undefined {
  for (const m of mods) for (const test of m.children.allTests()) if (test.meta().gate) return test.meta().gate;
  return undefined;
}
