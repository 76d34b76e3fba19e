import { percentile } from '../../runbook/catalogue.js';

export { percentile };

export function median(samples: number[]): number {
  return percentile(samples, 50);
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
