import { containerLogs, onHealthEvents, serviceStates, type ServiceState } from './docker.js';
import { WaitTimeout } from '../core/errors.js';
import { waitUntil } from '../core/wait.js';

export interface HealthWaitOptions {
  /** @default 60000 */
  timeoutMs?: number;
  /** Services that may be running without a passing health check. */
  allowUnhealthy?: string[];
}

/**
 * Waits until every service reports healthy. Docker's health events wake the wait at once; an inspect poll
 * every second is the fallback in case an event is missed. On timeout, names each laggard with its state,
 * last health-check output and last log lines.
 */
export async function waitHealthy(project: string, services: string[], opts: HealthWaitOptions = {}) {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let latest = new Map<string, ServiceState>();
  const ok = (s: ServiceState | undefined) =>
    !!s &&
    s.state === 'running' &&
    (s.health === 'healthy' || s.health === 'none' || !!opts.allowUnhealthy?.includes(s.service));
  let unsubscribe: (() => void) | undefined;
  try {
    return await waitUntil(
      async () => {
        latest = await serviceStates(project, services);
        const waiting = services.filter((s) => !ok(latest.get(s)));
        if (waiting.length === 0) return { ready: true, value: latest };
        return { ready: false, last: waiting.map((s) => `${s}: ${describe(latest.get(s))}`).join(', ') };
      },
      {
        what: `services ${services.join(', ')} healthy`,
        timeoutMs,
        intervalMs: 1000,
        wake: (poll) => {
          void onHealthEvents(project, () => poll())
            .then((u) => (unsubscribe = u))
            .catch(() => {});
          return () => unsubscribe?.();
        },
      },
    );
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    const details: string[] = [];
    for (const s of services.filter((name) => !ok(latest.get(name)))) {
      const st = latest.get(s);
      details.push(
        `${s}: ${describe(st)}` +
          (st?.lastHealthOutput
            ? `\n    last health check: ${st.lastHealthOutput.split('\n').slice(-3).join(' | ')}`
            : '') +
          (st ? `\n    last log lines:\n${indent(await containerLogs(st.id, 10))}` : ''),
      );
    }
    throw new WaitTimeout(`${err.message}\n  ${details.join('\n  ')}`, { cause: err });
  }
}

function describe(s: ServiceState | undefined): string {
  if (!s) return 'no container';
  return s.health === 'none' ? s.state : `${s.state} (${s.health})`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => `      ${l}`)
    .join('\n');
}
