// Long work (a compose call, a build, a wait) says it is under way, so the harness can act at that point of a
// runbook step. The harness installs the listener; the primitives below it only signal.
type Listener = () => Promise<void>;
let listener: Listener | undefined;

export function onStepInProgress(l: Listener | undefined): void {
  listener = l;
}

/** Marks the current step's long work as under way. */
export function stepInProgress(): Promise<void> {
  return listener ? listener() : Promise.resolve();
}
