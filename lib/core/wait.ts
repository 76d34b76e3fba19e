import { WaitTimeout } from './errors.js';
import { stepInProgress } from './step-signal.js';

export interface WaitOptions {
  /** What is being waited for, for the timeout message: "GET /health → 200". */
  what: string;
  /** Overall budget in ms. @default 60000 */
  timeoutMs?: number;
  /** Pause between polls in ms. @default 250 */
  intervalMs?: number;
  /** Resolves early when an external event (a Docker health event, say) says to poll now. */
  wake?: (poll: () => void) => () => void;
}

export type Probe<T> = () => Promise<
  | { ready: true; value: T }
  | { ready: false; last: string; /** Waiting longer cannot help: stop with this. */ fatal?: Error }
>;

/**
 * The one wait primitive: polls `probe` until it reports ready or the budget runs out. A probe reports
 * "not ready" rather than throwing; a throw counts as not ready with its message as the last state. A probe that
 * knows the wait is lost (an update the engine rolled back) says so with `fatal`, and the wait ends at once.
 */
export async function waitUntil<T>(probe: Probe<T>, opts: WaitOptions): Promise<{ value: T; elapsedMs: number }> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const intervalMs = opts.intervalMs ?? 250;
  const started = performance.now();
  const deadline = started + timeoutMs;
  let last = 'never polled';
  let wakeUp: (() => void) | undefined;
  const unsubscribe = opts.wake?.(() => wakeUp?.());
  try {
    await stepInProgress();
    for (;;) {
      let fatal: Error | undefined;
      try {
        const r = await probe();
        if (r.ready) return { value: r.value, elapsedMs: performance.now() - started };
        last = r.last;
        fatal = r.fatal;
      } catch (err) {
        last = (err as Error).message;
      }
      if (fatal) throw fatal;
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new WaitTimeout(`${opts.what} not ready after ${timeoutMs} ms (last: ${last})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(intervalMs, remaining));
        function done() {
          clearTimeout(timer);
          wakeUp = undefined;
          resolve();
        }
        wakeUp = done;
      });
    }
  } finally {
    unsubscribe?.();
  }
}
