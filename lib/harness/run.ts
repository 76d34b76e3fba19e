// What a phase run is about, resolved once by its global setup and handed to the specs with Vitest's provide:
// the settings (secrets by reference), the checkout it deploys, where reports go and, for a deploy or rollback,
// the plan that was printed (and on production confirmed) before anything changed. The reporter reads the same
// context.
import { inject } from 'vitest';
import type { Plan } from '../operations/plan.js';
import { targetFromSnapshot, type Resolved, type SettingsSnapshot, type Target, type TargetName } from './config.js';
import type { Phase } from './evidence.js';

export interface RunContext {
  phase: Phase;
  target: TargetName;
  projectDir: string;
  reportsDir: string;
  /** HEAD of the project checkout, for the phases that read it (preflight, deploy): the build a deploy makes. */
  checkout: string | undefined;
  /** The plan a deploy or rollback showed before it started; undefined when it could not be made. */
  plan: Plan | undefined;
  startedAt: string;
  /** The run's settings, resolved and checked once; secrets are named, never carried. */
  settings: SettingsSnapshot;
  /**
   * The earlier runbook phases of this same Vitest run (`npm run launch` runs several as projects, in runbook
   * order): this phase runs only when each of them passed, and is recorded as not run otherwise.
   */
  after: Phase[];
}

declare module 'vitest' {
  interface ProvidedContext {
    run: RunContext;
  }
}

/** The run context in a spec. A spec started without its phase's global setup has none, and cannot run. */
export function runContext(): RunContext {
  const run = inject('run');
  if (!run) throw new Error('no run context: specs run through their phase (npm run <phase>), whose setup provides it');
  return run;
}

let target_: Target | undefined;
/** The run's target in a spec, rebuilt once per worker from the settings its setup resolved. */
export function target(): Target {
  target_ ??= targetFromSnapshot(runContext().settings);
  return target_;
}

/** The settings this run was given that differ from its target's defaults; secrets redacted. */
export function targetOverrides(): Resolved['overrides'] {
  return runContext().settings.overrides;
}
