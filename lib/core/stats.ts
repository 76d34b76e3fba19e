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
  const w = serverWork(distanceMs, latenciesMs);
  return w ? Math.max(1, Math.min(max, Math.floor(w.typicalMs / w.workMs))) : 1;
}

/** The server's share of a typical request, as pacedWindow reckons it; undefined until both are known. */
export function serverWork(
  distanceMs: number | undefined,
  latenciesMs: number[],
): { typicalMs: number; workMs: number } | undefined {
  if (distanceMs === undefined || !Number.isFinite(distanceMs) || latenciesMs.length === 0) return undefined;
  const travel = Math.min(distanceMs, ...latenciesMs);
  const typicalMs = median(latenciesMs.slice(-10));
  return { typicalMs, workMs: Math.max(minWorkMs, typicalMs - travel) };
}

/**
 * The least server time pacing reckons a request costs: what a server spends below it is hidden in the jitter of
 * a round trip. A paced sample never sends two requests closer together than this.
 */
export const minWorkMs = 2;

/**
 * The longest a near API's answer takes once its request has gone out, on a client busy starting its checks:
 * until an answer has been awaited that long, smoke 9 opens no connection past its first, since near the API a
 * handshake costs the client and the server more than the round trip it would save.
 */
export const nearApiMs = 30;

/** The most requests pacedWindow can keep in flight against a server at most this far away. */
export function pacingReach(distanceMs: number): number {
  return Math.floor(Math.max(0, distanceMs) / minWorkMs) + 1;
}

/**
 * Slow start's first window, from answers the sample did not make itself: as many as pacedWindow allows for them,
 * but never more than `cap`, the number of requests those answers came from while in flight together. So a first
 * wave never loads the server more than it was loaded a moment ago. One when there are none.
 */
export function firstWindow(distanceMs: number | undefined, earlierMs: number[], max: number, cap: number): number {
  return Math.max(1, Math.min(cap, pacedWindow(distanceMs, earlierMs, max)));
}
