// The few error kinds the harness raises. "Could not check" is kept apart from "checked and failed":
// the first becomes a JUnit <error>, the second a <failure>, and both are HOLD.

/** A setting is missing or malformed. Raised before any check runs. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly setting: string,
    readonly expected: string,
    readonly found: string,
    readonly remedy: string,
  ) {
    super(`${setting}: expected ${expected}, found ${found}. ${remedy}`);
  }
}

/** A probe could not measure what it was asked to: unreachable, timed out, malformed answer. */
export class CouldNotCheck extends Error {
  override name = 'CouldNotCheck';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A wait ran out of time. */
export class WaitTimeout extends CouldNotCheck {
  override name = 'WaitTimeout';
}

/** The harness refuses to act: a lock is held, nothing to roll back to, an unsafe downgrade. */
export class Refused extends Error {
  override name = 'Refused';
  constructor(
    message: string,
    readonly remedy: string,
  ) {
    super(`${message}\n  hint: ${remedy}`);
  }
}
