// The few error kinds the harness raises. "Could not check" is kept apart from "checked and failed":
// the first becomes a JUnit <error>, the second a <failure>, and both are HOLD. Each of these errors carries
// `couldNotCheck: true` as an own field: it survives Vitest's error serialisation, which keeps no class.
import { failureText } from './failure.js';

/** True for an error, live or serialised, that means the check could not run rather than that it failed. */
export function isCouldNotCheck(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { couldNotCheck?: unknown }).couldNotCheck === true;
}

/** A setting is missing or malformed. Raised before any check runs. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly couldNotCheck = true;
  constructor(
    readonly setting: string,
    readonly expected: string,
    readonly found: string,
    readonly action: string,
  ) {
    super(failureText({ title: setting, expected, found, action }));
  }
}

/** Several settings are missing or malformed: each is listed, and the first one's fields are this error's. */
export class ConfigErrors extends ConfigError {
  constructor(readonly problems: ConfigError[]) {
    const [first] = problems as [ConfigError, ...ConfigError[]];
    super(first.setting, first.expected, first.found, first.action);
    const listed = problems.map((p) => `  - ${p.message.replace(/\n/g, '\n    ')}`);
    this.message = `${problems.length} settings need fixing:\n${listed.join('\n')}`;
  }
}

/** A probe could not measure what it was asked to: unreachable, timed out, malformed answer. */
export class CouldNotCheck extends Error {
  override name = 'CouldNotCheck';
  readonly couldNotCheck = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A check measured and the measure broke the runbook's promise: a failure, not a could-not-check. */
export class CheckFailed extends Error {
  override name = 'CheckFailed';
}

/** A wait ran out of time. */
export class WaitTimeout extends CouldNotCheck {
  override name = 'WaitTimeout';
}

/** The harness refuses to act: a lock is held, nothing to roll back to, an unsafe downgrade. */
export class Refused extends Error {
  override name = 'Refused';
  readonly couldNotCheck = true;
  constructor(
    why: string,
    readonly action: string,
  ) {
    super(failureText({ title: why, action }));
  }
}
