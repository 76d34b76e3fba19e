import { percentile } from '../../runbook/catalogue.js';

export { percentile };

export function median(samples: number[]): number {
  return percentile(samples, 50);
}

/**
 * How many sample requests to keep in flight so that the server works on about one of them at a time (Little's
 * law). Each request spends some time travelling and the rest in the server. The travel is the fastest answer
 * seen: `distanceMs` (an answer that costs the server nothing, such as /health) or any faster sample, as TCP
 * Vegas takes its base RTT. The server's share is the recent typical latency (median of the last ten) less the
 * travel. Against a far API most of each request is travel and many fly at once; against a near one, or a
 * server slow for its own reasons, one at a time, so a sample never measures the load it makes itself. One
 * until both are known; never more than `max`.
 */
export function pacedWindow(distanceMs: number | undefined, latenciesMs: number[], max: number): number {
  if (distanceMs === undefined || !Number.isFinite(distanceMs) || latenciesMs.length === 0) return 1;
  const travel = Math.min(distanceMs, ...latenciesMs);
  const typical = median(latenciesMs.slice(-10));
  const work = Math.max(1, typical - travel);
  return Math.max(1, Math.min(max, Math.floor(typical / work)));
}

/**
 * Slow start's first window, from answers the sample did not make itself: as many as pacedWindow allows for them,
 * but never more than `cap`, the number of requests those answers came from while in flight together. So a first
 * wave never loads the server more than it was loaded a moment ago. One when there are none.
 */
export function firstWindow(distanceMs: number | undefined, earlierMs: number[], max: number, cap: number): number {
  return Math.max(1, Math.min(cap, pacedWindow(distanceMs, earlierMs, max)));
}
