// Fault switches of the reference API. Each is set at start from the environment (or from build.env baked
// into a "bad build") and can be changed on a running API through the loopback admin endpoint.
export interface Faults {
  /** Extra delay on /v1/search, in ms. Env FAULT_SEARCH_DELAY_MS. @default 0 */
  searchDelayMs: number;
  /** /v1/search answers 503. Env FAULT_SEARCH_5XX. @default false */
  search5xx: boolean;
  /** Products carry currency SGD instead of USD. Env FAULT_WRONG_CURRENCY. @default false */
  wrongCurrency: boolean;
  /** /go/:asin redirects without the affiliate tag. Env FAULT_UNTAGGED_REDIRECT. @default false */
  untaggedRedirect: boolean;
  /** /go/:asin appends the tag with a trailing 0 (buywhere-200). Env FAULT_WRONG_TAG. @default false */
  wrongTag: boolean;
  /** /go/:asin redirects to www.amazon.com.evil.example. Env FAULT_LOOKALIKE_REDIRECT. @default false */
  lookalikeRedirect: boolean;
  /** /health/detailed reports degraded. Env FAULT_DEGRADED_HEALTH. @default false */
  degradedHealth: boolean;
  /** /health answers 503. Env FAULT_HEALTH_DOWN. @default false */
  healthDown: boolean;
  /** Delay before every response, emulating a remote network, in ms. Env FAULT_RESPONSE_DELAY_MS. @default 0 */
  responseDelayMs: number;
  /** /health/detailed says "healthy" while reporting the db dependency down. Env FAULT_LYING_HEALTH. @default false */
  lyingHealth: boolean;
  /** Search results are USD products whose price is null. Env FAULT_USD_NO_PRICE. @default false */
  usdNoPrice: boolean;
  /** /go/:asin answers this non-redirect 3xx (300 or 304) with an Amazon Location; 0 is off. Env FAULT_REDIRECT_STATUS. @default 0 */
  redirectStatus: number;
  /** /go/:asin sends the tagged Amazon URL on port 8443. Env FAULT_REDIRECT_PORT. @default false */
  redirectPort: boolean;
  /** /go/:asin sends the tagged Amazon URL with user:pw@ userinfo. Env FAULT_REDIRECT_USERINFO. @default false */
  redirectUserinfo: boolean;
  /** /v1/status answers 403 with the presented API key echoed in the body. Env FAULT_ECHO_KEY. @default false */
  echoKey: boolean;
  /** The next this many /go/:asin requests answer 503, one fewer each time: a flaky redirect. Env FAULT_REDIRECT_FAILURES. @default 0 */
  redirectFailures: number;
  /** The process starts and never listens on its local port: a build that never comes up. Start-only. Env FAULT_NEVER_LISTENS. @default false */
  neverListens: boolean;
}

const envNames: Record<keyof Faults, string> = {
  searchDelayMs: 'FAULT_SEARCH_DELAY_MS',
  search5xx: 'FAULT_SEARCH_5XX',
  wrongCurrency: 'FAULT_WRONG_CURRENCY',
  untaggedRedirect: 'FAULT_UNTAGGED_REDIRECT',
  wrongTag: 'FAULT_WRONG_TAG',
  lookalikeRedirect: 'FAULT_LOOKALIKE_REDIRECT',
  degradedHealth: 'FAULT_DEGRADED_HEALTH',
  healthDown: 'FAULT_HEALTH_DOWN',
  responseDelayMs: 'FAULT_RESPONSE_DELAY_MS',
  lyingHealth: 'FAULT_LYING_HEALTH',
  usdNoPrice: 'FAULT_USD_NO_PRICE',
  redirectStatus: 'FAULT_REDIRECT_STATUS',
  redirectPort: 'FAULT_REDIRECT_PORT',
  redirectUserinfo: 'FAULT_REDIRECT_USERINFO',
  echoKey: 'FAULT_ECHO_KEY',
  redirectFailures: 'FAULT_REDIRECT_FAILURES',
  neverListens: 'FAULT_NEVER_LISTENS',
};

export const noFaults = (): Faults => ({
  searchDelayMs: 0,
  search5xx: false,
  wrongCurrency: false,
  untaggedRedirect: false,
  wrongTag: false,
  lookalikeRedirect: false,
  degradedHealth: false,
  healthDown: false,
  responseDelayMs: 0,
  lyingHealth: false,
  usdNoPrice: false,
  redirectStatus: 0,
  redirectPort: false,
  redirectUserinfo: false,
  echoKey: false,
  redirectFailures: 0,
  neverListens: false,
});

/** Validates a partial set of switches, as given to the admin endpoint. */
export function parseFaults(input: Record<string, unknown>): Partial<Faults> {
  const defaults = noFaults();
  const out: Partial<Faults> = {};
  for (const [key, value] of Object.entries(input)) {
    if (!(key in defaults)) throw new Error(`unknown fault switch: ${key}`);
    const k = key as keyof Faults;
    if (typeof defaults[k] === 'number') {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        throw new Error(`${key} must be a number >= 0`);
      (out as Record<string, unknown>)[k] = value;
    } else {
      if (typeof value !== 'boolean') throw new Error(`${key} must be true or false`);
      (out as Record<string, unknown>)[k] = value;
    }
  }
  return out;
}

/** Reads the switches from build.env lines (KEY=VALUE) first, then the environment, which wins. */
export function loadFaults(env: NodeJS.ProcessEnv, buildEnv: string): Faults {
  const baked: Record<string, string> = {};
  for (const line of buildEnv.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) baked[m[1]!] = m[2]!;
  }
  const faults = noFaults();
  for (const [key, name] of Object.entries(envNames) as Array<[keyof Faults, string]>) {
    const raw = env[name] ?? baked[name];
    if (raw === undefined || raw === '') continue;
    if (typeof faults[key] === 'number')
      (faults as unknown as Record<string, number>)[key] = Math.max(0, Number(raw) || 0);
    else (faults as unknown as Record<string, boolean>)[key] = raw === '1' || raw === 'true';
  }
  return faults;
}
