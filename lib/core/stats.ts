import { percentile } from '../../runbook/catalogue.js';

export { percentile };

export function median(samples: number[]): number {
  return percentile(samples, 50);
}

/**
 * How many requests to keep in flight while sampling latency, paced as TCP Vegas paces a window: each answer
 * as fast as the fastest seen so far (within `tolerance`) lets one more request fly, a slower one halves the
 * window. Where latency is distance (a far API) the window grows to `max`; where it is the server's own work
 * (a near API) more requests only slow each other down, and the window stays near one, so a sample never
 * measures the load it makes itself.
 */
export class LatencyPacer {
  private fastest = Infinity;
  window = 1;
  constructor(
    private readonly max: number,
    private readonly tolerance = 1.25,
    /** Jitter of a few ms must not halve the window of an API that answers in a few ms. */
    private readonly slackMs = 2,
  ) {}

  /** `ms` is Infinity for a request that failed or timed out: it halves the window like a slow one. */
  observe(ms: number): void {
    if (!Number.isFinite(ms)) {
      this.window = Math.max(1, Math.floor(this.window / 2));
      return;
    }
    this.fastest = Math.min(this.fastest, ms);
    if (ms <= this.fastest * this.tolerance + this.slackMs) this.window = Math.min(this.max, this.window + 1);
    else this.window = Math.max(1, Math.floor(this.window / 2));
  }
}

/** Runs `count` tasks with at most `concurrency` in flight; results in task order. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  });
  await Promise.all(workers);
  return out;
}
