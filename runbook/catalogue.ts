// The runbook as data: every check of preflight, deploy, smoke and rollback, with its section, title,
// threshold, action and whether it blocks, and the Go/No-Go conditions they feed. Specs, the gate and the
// reports all read their thresholds from here, and the spec and the gate judge a measured record with the
// same function. Pure data and pure functions only: nothing here touches the network, the disk or the harness.

export type RunbookPhase = 'preflight' | 'deploy' | 'smoke' | 'rollback';

export interface Threshold {
  op: '<' | '<=' | '>' | '>=';
  value: number;
  unit: string;
}

/** Target settings that some thresholds depend on. `evidenceAgeH` ages a recorded age by the evidence's own age. */
export interface JudgeSettings {
  deployBranch: string;
  replicaMaxLagBytes: number;
  evidenceAgeH?: number;
}

export type Measured = Record<string, unknown>;

export interface Entry {
  id: CheckId;
  phase: RunbookPhase;
  /** The runbook's number: "1.4", "Step 3", "Smoke 9", "6". */
  section: string;
  /** What the runbook checks, threshold included, as the spec and the report title it. */
  title: string;
  /** The headline comparison, as data, where there is one. */
  threshold?: Threshold;
  /** The threshold as the report shows it. */
  expected: string;
  action: string;
  /** Blocking checks decide GO; advisory ones are shown as warnings; optional ones run only when asked. */
  kind: 'blocking' | 'advisory' | 'optional';
  /** Why the measured record does not meet the runbook's promise; undefined when it does. */
  judge: (m: Measured, s: JudgeSettings) => string | undefined;
  /** A measured record that meets the promise: the shape the spec records. */
  example: Measured;
  /** The record in words for a person, where field names alone would not read (runbook/words.ts). */
  words?: (m: Measured) => string | undefined;
}

export const affiliateTag = 'buywhere-20';
/** The most redirects a browser-like client follows on /go/ before the chain counts as broken. */
export const maxRedirects = 5;
export const redirectStatuses = [301, 302, 303, 307, 308];
/** The fewest smoke 9 samples a p99 is computed from (a 99th percentile of fewer is only their maximum); the gate refuses fewer. */
export const p99MinSamples = 100;
/** Clocks of the host and the harness may disagree this much before a date counts as "in the future". */
export const clockSkewMs = 2 * 60_000;
/** The weakest TLS keys smoke 10 accepts. */
export const minKeyBits = { RSA: 2048, EC: 256 };
/** The words /health/detailed may use for a dependency that is up. */
export const healthyWords = ['healthy', 'ok', 'up'];

const t = {
  disk: { op: '<', value: 85, unit: '%' },
  backupAge: { op: '<', value: 24, unit: 'h' },
  /** A backup holds at least this share of the live row estimate of products: not near-empty. */
  backupRows: { op: '>=', value: 0.5, unit: '× the live products' },
  /** A backup is at least this share of the previous complete backup's size: not cut down. */
  backupSize: { op: '>=', value: 0.5, unit: '× the previous backup' },
  pool: { op: '<', value: 70, unit: '%' },
  dbResponse: { op: '<', value: 500, unit: 'ms' },
  activeProducts: { op: '>', value: 1_000_000, unit: 'products' },
  searchLatency: { op: '<', value: 2000, unit: 'ms' },
  certDays: { op: '>', value: 30, unit: 'days' },
  dataServices: { op: '<=', value: 60, unit: 's' },
  apiUp: { op: '<=', value: 120, unit: 's' },
  mcpUp: { op: '<=', value: 30, unit: 's' },
  rollbackUp: { op: '<=', value: 60, unit: 's' },
  errorRate: { op: '<', value: 0.5, unit: '%' },
} satisfies Record<string, Threshold>;

/**
 * A number with commas between thousands, as en-US writes it (16777216 → "16,777,216"), without
 * toLocaleString: its first call in a thread loads ICU's number data, 15 ms of every phase's start.
 */
export function withThousands(n: number): string {
  const [whole, fraction] = String(n).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** A number as a person reads it: thousands grouped, at most two decimals, "≈" when that rounded it. Display only. */
export function numberInWords(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const decimals = Math.abs(v) >= 100 ? 1 : 2;
  const shown = Math.round(v * 10 ** decimals) / 10 ** decimals;
  const text = Math.abs(shown) >= 10_000 ? withThousands(shown) : String(shown);
  return shown === v ? text : `≈ ${text}`;
}

export function formatThreshold(th: Threshold): string {
  const value = th.value >= 10_000 ? withThousands(th.value) : String(th.value);
  const op = { '<': '<', '<=': '≤', '>': '>', '>=': '≥' }[th.op];
  return th.unit === '%' ? `${op} ${value}%` : `${op} ${value} ${th.unit}`;
}

export function meets(v: number, th: Threshold): boolean {
  switch (th.op) {
    case '<':
      return v < th.value;
    case '<=':
      return v <= th.value;
    case '>':
      return v > th.value;
    case '>=':
      return v >= th.value;
  }
}

/** Nearest-rank percentile: the smallest sample with at least p% of samples at or below it. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isRecord = (v: unknown): v is Measured => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A share as a person reads it: 0.4993 → "49.93 %". Display only; judged on the share itself. */
const ratio = (r: number) => (Number.isFinite(r) ? `${Number((r * 100).toPrecision(4))} %` : String(r));
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/** The first failed rule's reason, or undefined when all hold. */
function first(...rules: Array<[boolean, string | (() => string)]>): string | undefined {
  for (const [ok, why] of rules) if (!ok) return typeof why === 'function' ? why() : why;
  return undefined;
}

/** A value rounded for display, unless rounding would make it look like the threshold it was judged against. */
const shownAgainst = (v: number, th: Threshold) =>
  numberInWords(v).replace(/^≈ /, '') === String(th.value) && v !== th.value ? String(v) : numberInWords(v);

function compare(m: Measured, key: string, th: Threshold, what = key): string | undefined {
  const v = m[key];
  if (!isNum(v)) return `${what} is ${show(v)}, not a number`;
  return meets(v, th)
    ? undefined
    : `${what} is ${shownAgainst(v, th)}${th.unit === '%' ? '%' : ` ${th.unit}`}, expected ${formatThreshold(th)}`;
}

const exitZero = (m: Measured) =>
  first([
    m.exit_code === 0,
    () =>
      `exit code ${show(m.exit_code)}${m.timed_out ? ' (timed out)' : ''}, expected 0${typeof m.last_output === 'string' ? `; last output:\n${m.last_output}` : ''}`,
  ]);

/**
 * Why an affiliate URL is not the one the runbook promises: https, on amazon.com or a subdomain (compared on
 * the parsed, lower-cased, punycode host), on the default port, without userinfo, with exactly one query
 * parameter named tag whose value is the affiliate tag.
 */
export function affiliateUrlProblem(url: unknown): string | undefined {
  if (typeof url !== 'string') return `final URL is ${show(url)}`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `final URL ${JSON.stringify(url.slice(0, 120))} does not parse`;
  }
  const host = u.hostname.replace(/\.$/, '');
  const tags = [...u.searchParams.keys()].filter((k) => k === 'tag');
  return first(
    [u.protocol === 'https:', `${url} is not https`],
    [host === 'amazon.com' || host.endsWith('.amazon.com'), `${u.hostname} is not amazon.com or a subdomain of it`],
    [u.port === '', `${url} names port ${u.port}`],
    [u.username === '' && u.password === '', `${url} carries userinfo`],
    [tags.length === 1, `${url} has ${tags.length} tag parameters, expected exactly 1`],
    [
      u.searchParams.get('tag') === affiliateTag,
      () => `tag is ${JSON.stringify(u.searchParams.get('tag'))}, expected ${affiliateTag}`,
    ],
  );
}

const judges = {
  health: (m: Measured) =>
    first(
      [m.http === 200, `HTTP ${show(m.http)}, expected 200`],
      [m.status === 'ok', `status ${word(m.status)}, expected "ok"`],
    ),
  detailedHealth: (m: Measured) => {
    const deps = m.dependencies;
    const isObj = typeof deps === 'object' && deps !== null && !Array.isArray(deps);
    const down = isObj
      ? Object.entries(deps as Record<string, unknown>).filter(
          ([, v]) => !healthyWords.includes(String(v).toLowerCase()),
        )
      : [];
    return (
      first(
        [down.length === 0, () => `dependencies not healthy: ${down.map(([k, v]) => `${k}=${show(v)}`).join(', ')}`],
        [m.http === 200, `HTTP ${show(m.http)}, expected 200`],
        [m.status === 'healthy', `status ${word(m.status)}, expected "healthy"`],
        [
          isObj && Object.keys(deps as object).length > 0,
          `dependencies is ${show(deps)}, expected an object naming each dependency`,
        ],
        [
          isNum(m.db_response_ms) && m.db_response_ms >= 0,
          `db_response_ms is ${show(m.db_response_ms)}, not a number ≥ 0`,
        ],
      ) ?? compare(m, 'db_response_ms', t.dbResponse)
    );
  },
  products: (m: Measured) =>
    first(
      [m.http === 200, `HTTP ${show(m.http)}, expected 200`],
      [isInt(m.total) && (m.total as number) > 0, `total is ${show(m.total)}, expected an integer > 0`],
      [
        isInt(m.products) && (m.products as number) > 0,
        `products holds ${show(m.products)} objects, expected at least one`,
      ],
    ),
  searchUsd: (m: Measured) =>
    first(
      [m.http === 200, `HTTP ${show(m.http)}, expected 200`],
      [isInt(m.total) && (m.total as number) > 0, `total is ${show(m.total)}, expected an integer > 0`],
      [!m.not_objects, () => `${show(m.not_objects)} entries of products are not objects`],
      [
        isInt(m.usd_priced) && (m.usd_priced as number) >= 1,
        () =>
          `${show(m.usd_priced)} products with currency "USD" and a price > 0 (currencies seen: ${show(m.currencies)})`,
      ],
    ),
  namedProduct: (m: Measured) =>
    first(
      [m.http === 200, `HTTP ${show(m.http)}, expected 200`],
      [
        typeof m.first_product === 'string' && m.first_product.trim() !== '',
        `products[0].name is ${show(m.first_product)}, expected a non-blank string`,
      ],
    ),
  redirect: (m: Measured) => {
    const statuses = Array.isArray(m.statuses) ? m.statuses : [];
    return (
      first(
        [m.problem === null, `redirect chain: ${show(m.problem)}`],
        [
          statuses.length >= 1 && statuses.length <= maxRedirects,
          `${statuses.length} redirects, expected 1 to ${maxRedirects}`,
        ],
        [
          statuses.every((s) => redirectStatuses.includes(s as number)),
          `statuses ${show(statuses)}: only ${redirectStatuses.join(', ')} are redirects`,
        ],
      ) ?? affiliateUrlProblem(m.final)
    );
  },
};

const entries = [
  // Section 1: pre-deploy checklist.
  {
    id: 'preflight.1.1',
    phase: 'preflight',
    section: '1.1',
    kind: 'blocking',
    title: 'Git state: working tree clean, on the deploy branch, in sync with its upstream',
    expected: 'clean, on the deploy branch, 0 ahead / 0 behind its upstream',
    action: 'Commit or stash, check out the deploy branch and sync it with its upstream',
    judge: (m, s) =>
      first(
        [m.dirty === 0, `${show(m.dirty)} uncommitted changes`],
        [m.branch === s.deployBranch, `on branch ${show(m.branch)}, expected ${s.deployBranch}`],
        [
          typeof m.upstream === 'string',
          `${show(m.branch)} has no upstream, so "fully synced" cannot be shown; set one with git branch -u`,
        ],
        [m.fetch_error === null, `git fetch failed: ${show(m.fetch_error)}`],
        [m.ahead === 0 && m.behind === 0, `${show(m.ahead)} ahead, ${show(m.behind)} behind ${show(m.upstream)}`],
      ),
    example: {
      sha: 'abc1234',
      branch: 'master',
      dirty: 0,
      ahead: 0,
      behind: 0,
      upstream: 'origin/master',
      fetch_error: null,
    },
  },
  {
    id: 'preflight.1.2.file',
    phase: 'preflight',
    section: '1.2',
    kind: 'blocking',
    title: '.env present (not .env.example), not zero-length, parses, not readable by others',
    expected: 'exists, > 0 bytes, KEY=VALUE lines, mode without o+r',
    action: 'Create .env from the deploy secrets (not .env.example) and chmod 600 it',
    judge: (m) =>
      first(
        [m.present === true, m.example_only ? '.env is missing; only .env.example exists' : '.env is missing'],
        [isInt(m.bytes) && (m.bytes as number) > 0, `.env is ${show(m.bytes)} bytes`],
        [m.malformed === null, `.env does not parse: ${show(m.malformed)}`],
        [m.is_example === null, () => `.env is the example, not the deploy secrets: ${word(m.is_example)}`],
        [
          typeof m.mode === 'string' && /^[0-7]{3,4}$/.test(m.mode) && (parseInt(m.mode, 8) & 0o004) === 0,
          `.env mode ${show(m.mode)} is readable by others`,
        ],
      ),
    example: { present: true, bytes: 812, mode: '600', malformed: null, is_example: null },
  },
  {
    id: 'preflight.1.2.keys',
    phase: 'preflight',
    section: '1.2',
    kind: 'blocking',
    title: 'All required keys present with non-empty values',
    expected: 'no required key missing or empty',
    action: 'Add the missing keys to .env',
    judge: (m) =>
      first(
        [Array.isArray(m.missing) && m.missing.length === 0, `missing or empty: ${show(m.missing)}`],
        [isInt(m.required) && (m.required as number) > 0, 'no required keys were checked'],
      ),
    example: { required: 12, missing: [] },
  },
  {
    id: 'preflight.1.2.values',
    phase: 'preflight',
    section: '1.2',
    kind: 'blocking',
    title: `USD_DEFAULT set, US_REGION=us, AFFILIATE_TAG=${affiliateTag}`,
    expected: `USD_DEFAULT non-empty, US_REGION=us, AFFILIATE_TAG=${affiliateTag}`,
    action: 'Fix the values in .env',
    judge: (m) =>
      first(
        [typeof m.USD_DEFAULT === 'string' && m.USD_DEFAULT !== '', `USD_DEFAULT is ${show(m.USD_DEFAULT)}`],
        [m.US_REGION === 'us', `US_REGION is ${show(m.US_REGION)}, expected "us"`],
        [m.AFFILIATE_TAG === affiliateTag, `AFFILIATE_TAG is ${show(m.AFFILIATE_TAG)}, expected "${affiliateTag}"`],
      ),
    example: { USD_DEFAULT: 'USD', US_REGION: 'us', AFFILIATE_TAG: affiliateTag },
  },
  {
    id: 'preflight.1.3.primary',
    phase: 'preflight',
    section: '1.3',
    kind: 'blocking',
    title: 'DB primary: SELECT 1 returns 1',
    expected: 'SELECT 1 = 1',
    action: 'HOLD — page Bolt: check `docker logs` of db',
    judge: (m) => first([m.select1 === 1, `SELECT 1 returned ${show(m.select1)}`]),
    example: { select1: 1, ms: 3 },
  },
  {
    id: 'preflight.1.3.replica',
    phase: 'preflight',
    section: '1.3',
    kind: 'blocking',
    title: 'DB replica: SELECT 1, in recovery, streaming, replay lag under the limit',
    expected: 'in recovery, WAL receiver streaming, lag < RUNBOOK_REPLICA_MAX_LAG_BYTES',
    action: 'HOLD — page Bolt: check db_replica and its WAL receiver',
    judge: (m, s) =>
      first(
        [m.select1 === 1, `SELECT 1 returned ${show(m.select1)}`],
        [m.in_recovery === true, 'pg_is_in_recovery() is not true: this is not a standby'],
        [m.wal_receiver === 'streaming', `WAL receiver is ${show(m.wal_receiver)}, expected "streaming"`],
      ) ?? compare(m, 'replay_lag_bytes', { op: '<', value: s.replicaMaxLagBytes, unit: 'bytes' }, 'replay lag'),
    example: { select1: 1, in_recovery: true, wal_receiver: 'streaming', replay_lag_bytes: 0 },
  },
  {
    id: 'preflight.1.3.pgbouncer',
    phase: 'preflight',
    section: '1.3',
    kind: 'blocking',
    threshold: t.pool,
    title: `PgBouncer: busiest pool usage ${formatThreshold(t.pool)} and no client waiting`,
    expected: `${formatThreshold(t.pool)}, cl_waiting = 0 in every pool`,
    action: 'HOLD — page Bolt: find what holds the pool (SHOW CLIENTS)',
    judge: (m) =>
      first([m.cl_waiting === 0, `${show(m.cl_waiting)} clients waiting (pool ${show(m.waiting_pool)})`]) ??
      compare(m, 'usage_pct', t.pool, `pool ${show(m.pool)} usage`),
    words: (m) =>
      isNum(m.usage_pct)
        ? `busiest pool ${word(m.pool)} at ${numberInWords(m.usage_pct)}%, ${show(m.cl_waiting)} clients waiting`
        : undefined,
    example: { usage_pct: 5, pool: 'catalog/buywhere', cl_waiting: 0, waiting_pool: null },
  },
  {
    id: 'preflight.1.3.redis',
    phase: 'preflight',
    section: '1.3',
    kind: 'blocking',
    title: 'Redis: PING returns PONG',
    expected: 'PONG',
    action: 'HOLD — page Bolt: check `docker logs` of redis',
    judge: (m) => first([m.reply === 'PONG', `PING returned ${show(m.reply)}`]),
    example: { reply: 'PONG' },
  },
  {
    id: 'preflight.1.4',
    phase: 'preflight',
    section: '1.4',
    kind: 'blocking',
    threshold: t.disk,
    title: `Disk usage ${formatThreshold(t.disk)}`,
    expected: formatThreshold(t.disk),
    action: 'HOLD — emergency cleanup: docker system prune -f --volumes=false; delete logs older than 7 days',
    judge: (m) => compare(m, 'used_pct', t.disk, `used space on ${show(m.path)}`),
    words: (m) =>
      isNum(m.used_pct)
        ? `${numberInWords(m.used_pct)}% used on ${word(m.path)}${isRecord(m.cleanup) && isNum(m.cleanup.before_pct) ? ` after the cleanup (${numberInWords(m.cleanup.before_pct)}% before it)` : ''}`
        : undefined,
    example: { used_pct: 40, path: '/' },
  },
  {
    id: 'preflight.1.5',
    phase: 'preflight',
    section: '1.5',
    kind: 'blocking',
    threshold: t.backupAge,
    title: `A complete backup newer than ${t.backupAge.value} h exists: read to its end, every live table in it, not near-empty`,
    expected: `${formatThreshold(t.backupAge)} old; reads to its end; every live table has its data; products ${formatThreshold(t.backupRows)}; size ${formatThreshold(t.backupSize)}`,
    action: 'HOLD — run backup first. Do not proceed without a backup that restores',
    judge: (m, s) => {
      const incomplete = Array.isArray(m.newer_incomplete)
        ? (m.newer_incomplete as Array<Record<string, unknown>>)
        : [];
      const named = incomplete.map((b) => `${word(b.file)}: ${word(b.why)}`).join('; ');
      if (m.file === null)
        return incomplete.length
          ? `no complete backup in ${show(m.dir)}: ${named}`
          : `no backup in ${show(m.dir)}${Array.isArray(m.not_backups) && m.not_backups.length ? ` (not backups: ${m.not_backups.join(', ')})` : ''}`;
      if (m.complete !== true) return `${show(m.file)} was not read to its end`;
      if (!isNum(m.age_h)) return `no backup age recorded (${show(m.age_h)})`;
      if (m.age_h < -clockSkewMs / 3_600_000)
        return `the newest backup ${show(m.file)} is dated ${(-m.age_h).toFixed(2)} h in the future`;
      const missing = Array.isArray(m.tables_missing) ? m.tables_missing : undefined;
      return (
        compare({ age_h: m.age_h + (s.evidenceAgeH ?? 0) }, 'age_h', t.backupAge, `age of ${show(m.file)} by now`) ??
        first(
          [missing !== undefined, 'the live tables were not compared with the archive'],
          [!missing?.length, () => `tables with no data in ${show(m.file)}: ${missing!.join(', ')}`],
          [
            isInt(m.products_rows) && isNum(m.products_live) && m.products_live >= 0,
            () => `products rows ${show(m.products_rows)} against a live estimate of ${show(m.products_live)}`,
          ],
          [
            (m.products_live as number) === 0 ||
              meets((m.products_rows as number) / (m.products_live as number), t.backupRows),
            () =>
              `${show(m.file)} holds ${withThousands(m.products_rows as number)} products, ${ratio((m.products_rows as number) / (m.products_live as number))} of the live estimate of ${withThousands(Math.round(m.products_live as number))}, expected ${formatThreshold(t.backupRows)}: near-empty`,
          ],
          [
            m.previous === null ||
              (isRecord(m.previous) && isInt(m.previous.bytes) && (m.previous.bytes as number) > 0),
            () => `previous backup ${show(m.previous)} has no size`,
          ],
          [
            m.previous === null ||
              (isInt(m.bytes) && meets((m.bytes as number) / ((m.previous as Measured).bytes as number), t.backupSize)),
            () =>
              `${show(m.file)} is ${show(m.bytes)} bytes, ${ratio((m.bytes as number) / ((m.previous as Measured).bytes as number))} of the previous complete backup ${show((m.previous as Measured).file)}, expected ${formatThreshold(t.backupSize)}`,
          ],
        )
      );
    },
    example: {
      age_h: 2,
      file: 'catalog-20260423T0500Z.dump',
      bytes: 52_000_000,
      complete: true,
      verified_s: 1.2,
      tables_missing: [],
      tables_empty: [],
      products_rows: 1_000_001,
      products_live: 1_000_001,
      previous: { file: 'catalog-20260422T0500Z.dump', bytes: 51_000_000 },
      newer_incomplete: [],
    },
  },
  {
    id: 'preflight.1.5.drill',
    phase: 'preflight',
    section: '1.5',
    kind: 'optional',
    title: 'Restore drill: the backup restores into a throwaway database and holds the live products (only when asked)',
    expected: `restore exits 0; products ${formatThreshold(t.backupRows)}`,
    action: 'HOLD — the backup does not restore: take a new one (RUNBOOK_RUN_BACKUP=1) and drill again',
    judge: (m) =>
      first(
        [
          m.exit_code === 0,
          () => `the restore exited ${show(m.exit_code)}${m.timed_out ? ' (timed out)' : ''}: ${word(m.error)}`,
        ],
        [
          isInt(m.products_restored) && isNum(m.products_live),
          () => `products restored ${show(m.products_restored)}, live ${show(m.products_live)}`,
        ],
        [
          (m.products_live as number) === 0 ||
            meets((m.products_restored as number) / (m.products_live as number), t.backupRows),
          () =>
            `${withThousands(m.products_restored as number)} products restored, ${ratio((m.products_restored as number) / (m.products_live as number))} of the live ${withThousands(m.products_live as number)}, expected ${formatThreshold(t.backupRows)}`,
        ],
      ),
    example: {
      file: 'catalog-20260423T0500Z.dump',
      exit_code: 0,
      products_restored: 1_000_001,
      products_live: 1_000_001,
      restore_s: 20,
    },
  },
  {
    id: 'preflight.1.6',
    phase: 'preflight',
    section: '1.6',
    kind: 'blocking',
    title: 'Current alembic_version recorded; exactly one head in alembic/versions',
    expected:
      'exactly one head; alembic_version read, one revision this checkout knows (no table: a database never migrated)',
    action: 'Resolve multiple heads (alembic merge), or a database ahead of the checkout, before deploying',
    judge: (m) =>
      first(
        [m.heads === 1, () => `${show(m.heads)} heads in alembic/versions`],
        [
          (m.table === false && m.current === null) || (m.table === true && typeof m.current === 'string'),
          () => `alembic_version ${m.table === true ? 'is empty' : `was not read (${show(m.current)})`}`,
        ],
        [
          m.table === false || m.known === true,
          () => `alembic_version holds ${show(m.current)}: not one revision this checkout knows`,
        ],
      ),
    example: { current: '0003_click_log', table: true, known: true, head: '0003_click_log', heads: 1, pending: false },
  },

  // Section 2: deploy steps.
  {
    id: 'deploy.lock',
    phase: 'deploy',
    section: 'Before step 1',
    kind: 'blocking',
    title: 'Deploy lock held by this run: no other deploy or rollback running',
    expected: 'lock held by this run',
    action: 'Wait for the running deploy or rollback to finish',
    judge: (m) => {
      const h = isRecord(m.holder) ? m.holder : undefined;
      const me = isRecord(m.this_run) ? m.this_run : undefined;
      return first(
        [!!h, 'the lock file is gone or unreadable after it was taken'],
        [!!me && isInt(me.pid) && typeof me.host === 'string', 'this run is not recorded'],
        [
          h?.pid === me?.pid && h?.host === me?.host && h?.started_at === me?.started_at,
          () =>
            `the lock is held by another run: pid ${show(h!.pid)} on ${word(h!.host)} since ${word(h!.started_at)} (${word(h!.command)}), not this run (pid ${show(me!.pid)} on ${word(me!.host)} since ${word(me!.started_at)})`,
        ],
      );
    },
    example: {
      holder: { pid: 100, host: 'prod-1', started_at: '2026-04-23T11:00:00.000Z', command: 'npm run deploy (abc1234)' },
      this_run: { pid: 100, host: 'prod-1', started_at: '2026-04-23T11:00:00.000Z' },
      took_over: null,
    },
    words: (m) =>
      isRecord(m.holder)
        ? `held by pid ${show(m.holder.pid)} on ${word(m.holder.host)} since ${word(m.holder.started_at)}${typeof m.took_over === 'string' ? `; ${m.took_over}` : ''}`
        : 'no lock file',
  },
  {
    id: 'deploy.1',
    phase: 'deploy',
    section: 'Step 1',
    kind: 'blocking',
    title: 'Save rollback state atomically: previous images and the SHA they were built from',
    expected: 'PREV_API_IMAGE, PREV_MCP_IMAGE, PREV_SHA, DEPLOY_TIME saved; PREV_SHA is not the build being deployed',
    action: 'Stop: without a rollback state there is nothing to roll back to',
    judge: (m) =>
      first(
        [m.saved === true, '.rollback_state unreadable after the write'],
        [m.prev_sha !== m.deploy_sha, `PREV_SHA ${show(m.prev_sha)} is the build being deployed`],
      ),
    example: {
      saved: true,
      prev_sha: 'fff0000',
      deploy_sha: 'abc1234',
      prev_api_image: 'sha256:0000',
      kept: false,
      note: null,
    },
  },
  {
    id: 'deploy.2.build',
    phase: 'deploy',
    section: 'Step 2',
    kind: 'blocking',
    title: 'Build Docker images: the build’s own exit code is 0 (not tee’s)',
    expected: 'exit 0',
    action: 'Stop — do not proceed. Read the build log',
    judge: exitZero,
    example: { exit_code: 0, timed_out: false, seconds: 12 },
  },
  {
    id: 'deploy.2.warnings',
    phase: 'deploy',
    section: 'Step 2',
    kind: 'advisory',
    title: 'Build log: no warning of a missing package or a failed test step (advisory)',
    expected: 'no such line in this build’s log',
    action: 'Read the lines named in the build log; rebuild before launch if a package or a test step failed',
    judge: (m) =>
      first(
        [
          isInt(m.lines_read) && (m.lines_read as number) > 0,
          `the build log was not read (${show(m.lines_read)} lines)`,
        ],
        [
          Array.isArray(m.findings) && m.findings.length === 0,
          () =>
            `${Array.isArray(m.findings) ? m.findings.length : '?'} line(s) in ${word(m.log)}: ${
              Array.isArray(m.findings)
                ? (m.findings as Array<Record<string, unknown>>)
                    .map((f) => `${word(f.kind)}: ${word(f.line)}`)
                    .join(' | ')
                : show(m.findings)
            }`,
        ],
      ),
    example: { lines_read: 40, findings: [], log: 'reports/logs/build-abc1234.log' },
    words: (m) =>
      Array.isArray(m.findings)
        ? m.findings.length === 0
          ? `${show(m.lines_read)} lines read, none reports a missing package or a failed test step`
          : `${m.findings.length} line(s) report a missing package or a failed test step: ${(m.findings as Array<Record<string, unknown>>).map((f) => word(f.line)).join(' | ')}`
        : undefined,
  },
  {
    id: 'deploy.2.tag',
    phase: 'deploy',
    section: 'Step 2',
    kind: 'blocking',
    title: 'Images tagged with the deployed SHA',
    expected:
      'sha-<DEPLOY_SHA> = :latest; through a registry (RUNBOOK_REGISTRY), both images pushed, each named by its digest',
    action:
      'Stop — tag the images by hand or rebuild; for a push, check the registry is up and reachable from this host',
    judge: (m) =>
      first(
        [
          typeof m.tagged === 'string' && m.tagged !== '' && m.tagged === m.latest,
          `sha- tag ${show(m.tagged)} is not :latest ${show(m.latest)}`,
        ],
        [
          m.registry === undefined || (isDigest(m.api_digest) && isDigest(m.mcp_digest)),
          `not pushed to ${String(m.registry)}: ${typeof m.push_problem === 'string' ? m.push_problem : 'no digest for both images'}`,
        ],
      ),
    example: { tagged: 'sha256:1111', latest: 'sha256:1111' },
  },
  {
    id: 'deploy.3',
    phase: 'deploy',
    section: 'Step 3',
    kind: 'blocking',
    threshold: t.dataServices,
    title: `Start DB and Redis: db, db_replica, pgbouncer, redis healthy within ${t.dataServices.value} s`,
    expected: `all healthy ${formatThreshold(t.dataServices)}`,
    action: 'Stop — check docker logs of the service named above',
    judge: (m) => {
      const req = Array.isArray(m.required) ? (m.required as unknown[]) : [];
      const healthy = Array.isArray(m.healthy) ? (m.healthy as unknown[]) : [];
      const missing = req.filter((x) => !healthy.includes(x));
      return (
        first(
          [req.length > 0, 'no services were waited for'],
          [missing.length === 0, `not healthy: ${missing.join(', ')}`],
        ) ?? compare(m, 'seconds', t.dataServices, 'time to healthy')
      );
    },
    example: {
      seconds: 4,
      required: ['db', 'db_replica', 'pgbouncer', 'redis'],
      healthy: ['db', 'db_replica', 'pgbouncer', 'redis'],
    },
  },
  {
    id: 'deploy.4.migrate',
    phase: 'deploy',
    section: 'Step 4',
    kind: 'blocking',
    title: 'Run database migrations: migrate exits 0',
    expected: 'exit 0',
    action: 'Stop immediately — do not bring up the API. Read the migrate log',
    judge: exitZero,
    example: { exit_code: 0, timed_out: false, seconds: 3 },
  },
  {
    id: 'deploy.4.version',
    phase: 'deploy',
    section: 'Step 4',
    kind: 'blocking',
    title: 'alembic_version equals the single head of alembic/versions',
    expected: 'alembic_version = head',
    action: 'Stop — do not bring up the API',
    judge: (m) =>
      first(
        [typeof m.head === 'string' && m.head !== '' && !m.head.includes(','), `heads: ${show(m.head)}`],
        [m.after === m.head, `alembic_version ${show(m.after)}, head ${show(m.head)}`],
      ),
    example: { before: '0003_click_log', after: '0003_click_log', head: '0003_click_log' },
  },
  {
    id: 'deploy.5',
    phase: 'deploy',
    section: 'Step 5',
    kind: 'blocking',
    threshold: t.apiUp,
    title: `Start API: local /health answers HTTP 200 within ${t.apiUp.value} s`,
    expected: `HTTP 200 ${formatThreshold(t.apiUp)}`,
    action: 'Stop — docker logs --tail=50 of the api container; consider rollback',
    judge: (m) => first([m.http === 200, `HTTP ${show(m.http)}`]) ?? compare(m, 'seconds', t.apiUp, 'time to HTTP 200'),
    example: { http: 200, seconds: 2 },
  },
  {
    id: 'deploy.5.public',
    phase: 'deploy',
    section: 'Step 5',
    kind: 'advisory',
    title: 'Public /health answers with the build step 5 started (advisory: the edge in front of the host)',
    expected: 'HTTP 200 from the public address, its build the one being deployed',
    action: 'Check what stands in front of the host (proxy, CDN): it may still route to, or cache, the old build',
    judge: (m) =>
      first(
        [m.http === 200, `HTTP ${show(m.http)} from ${show(m.url)}`],
        [
          typeof m.build === 'string' &&
            typeof m.deploying === 'string' &&
            Math.min(m.build.length, m.deploying.length) >= 7 &&
            (m.build.startsWith(m.deploying) || m.deploying.startsWith(m.build)),
          `${show(m.url)} serves build ${show(m.build)}, not ${show(m.deploying)}`,
        ],
      ),
    example: { url: 'https://api.buywhere.ai', http: 200, build: 'abc1234', deploying: 'abc1234' },
  },
  {
    id: 'deploy.6.up',
    phase: 'deploy',
    section: 'Step 6',
    kind: 'blocking',
    title: 'Start MCP and supporting services: mcp and scraper-scheduler started',
    expected: 'compose up exits 0',
    action: 'Stop — read the compose log',
    judge: exitZero,
    example: { exit_code: 0 },
  },
  {
    id: 'deploy.6.mcp',
    phase: 'deploy',
    section: 'Step 6',
    kind: 'advisory',
    threshold: t.mcpUp,
    title: `MCP /health 200 within ${t.mcpUp.value} s (non-blocking: a warning, the deploy goes on)`,
    expected: `HTTP 200 ${formatThreshold(t.mcpUp)}`,
    action: 'Non-blocking for launch: log it and tell Bolt',
    judge: (m) =>
      first([m.healthy === true, `MCP not healthy: ${show(m.why)}`]) ??
      compare(m, 'seconds', t.mcpUp, 'time to HTTP 200'),
    words: (m) =>
      m.healthy === true && isNum(m.seconds)
        ? `healthy after ${numberInWords(m.seconds)} s`
        : `not healthy: ${word(m.why)}`,
    example: { healthy: true, seconds: 1, why: null },
  },
  {
    id: 'deploy.7',
    phase: 'deploy',
    section: 'Step 7',
    kind: 'blocking',
    title: 'Start monitoring and cron services',
    expected: 'compose up exits 0',
    action: 'Stop — read the compose log',
    judge: exitZero,
    example: { exit_code: 0 },
  },
  {
    id: 'deploy.8',
    phase: 'deploy',
    section: 'Step 8',
    kind: 'blocking',
    title: 'Verify full stack: critical services Up (healthy); mcp Up',
    expected: 'critical services running and healthy; mcp running',
    action: 'HOLD — page Bolt; consider rollback',
    judge: (m) => {
      const c =
        typeof m.critical === 'object' && m.critical !== null
          ? Object.entries(m.critical as Record<string, unknown>)
          : [];
      const bad = c.filter(([, v]) => v !== 'running (healthy)');
      return first(
        [c.length > 0, 'no critical services recorded'],
        [bad.length === 0, () => `not healthy: ${bad.map(([k, v]) => `${k}: ${show(v)}`).join(', ')}`],
        [m.mcp === 'running', `mcp is ${show(m.mcp)}`],
      );
    },
    example: { critical: { api: 'running (healthy)', db: 'running (healthy)' }, mcp: 'running' },
  },

  // Section 3: smoke tests.
  {
    id: 'smoke.1',
    phase: 'smoke',
    section: 'Smoke 1',
    kind: 'blocking',
    title: 'public /health: HTTP 200, status ok',
    expected: 'HTTP 200, status: ok',
    action: 'HOLD — page Bolt',
    judge: judges.health,
    example: { http: 200, status: 'ok', build: 'abc1234', ms: 4 },
  },
  {
    id: 'smoke.2',
    phase: 'smoke',
    section: 'Smoke 2',
    kind: 'blocking',
    threshold: t.dbResponse,
    title: `public /health/detailed: HTTP 200, status healthy, every dependency healthy, db_response_ms ${formatThreshold(t.dbResponse)}`,
    expected: `healthy, every dependency healthy, db_response_ms ${formatThreshold(t.dbResponse)}`,
    action: 'HOLD — page Bolt',
    judge: judges.detailedHealth,
    example: {
      http: 200,
      status: 'healthy',
      db_response_ms: 3,
      dependencies: { db: 'healthy', db_replica: 'healthy', redis: 'healthy' },
    },
  },
  {
    id: 'smoke.3',
    phase: 'smoke',
    section: 'Smoke 3',
    kind: 'blocking',
    title: 'public /v1/products?limit=1: HTTP 200, total > 0, products non-empty',
    expected: 'HTTP 200, total > 0, products non-empty',
    action: 'HOLD — page Bolt',
    judge: judges.products,
    example: { http: 200, total: 1_000_001, products: 1 },
  },
  {
    id: 'smoke.4',
    phase: 'smoke',
    section: 'Smoke 4',
    kind: 'blocking',
    title: 'public search "laptop" in USD: HTTP 200, total > 0, a product priced in USD',
    expected: 'HTTP 200, total > 0, ≥ 1 product with currency USD and a price > 0',
    action: 'HOLD — page Bolt',
    judge: judges.searchUsd,
    example: { http: 200, total: 420, usd_priced: 3, currencies: ['USD'], not_objects: 0 },
  },
  {
    id: 'smoke.5',
    phase: 'smoke',
    section: 'Smoke 5',
    kind: 'blocking',
    title: 'public search "iphone": returns a named product',
    expected: 'products[0].name non-blank',
    action: 'HOLD — page Bolt',
    judge: judges.namedProduct,
    example: { http: 200, total: 12, first_product: 'Apple iPhone 15' },
  },
  {
    id: 'smoke.6',
    phase: 'smoke',
    section: 'Smoke 6',
    kind: 'blocking',
    title: `public /go/B09G9HDHJT ends on https amazon.com with tag=${affiliateTag} (≤ ${maxRedirects} redirects)`,
    expected: `https on amazon.com, default port, no userinfo, exactly one tag=${affiliateTag}; ≤ ${maxRedirects} redirects`,
    action: 'HOLD — page Sol/Link',
    judge: judges.redirect,
    example: { statuses: [302], final: `https://www.amazon.com/dp/B09G9HDHJT?tag=${affiliateTag}`, problem: null },
  },
  {
    id: 'smoke.7',
    phase: 'smoke',
    section: 'Smoke 7',
    kind: 'advisory',
    title: 'MCP /health: HTTP 200, status ok (non-blocking)',
    expected: 'HTTP 200, status: ok',
    action: 'Non-blocking for launch: log it and tell Bolt',
    judge: judges.health,
    words: (m) => (isNum(m.http) ? `HTTP ${m.http}, status ${word(m.status)}` : undefined),
    example: { http: 200, status: 'ok' },
  },
  {
    id: 'smoke.8',
    phase: 'smoke',
    section: 'Smoke 8',
    kind: 'blocking',
    threshold: t.activeProducts,
    title: `public /v1/status with the API key: HTTP 200, total_active_products ${formatThreshold(t.activeProducts)}`,
    expected: `total_active_products ${formatThreshold(t.activeProducts)}`,
    action: 'HOLD — page Bolt: the catalog is incomplete',
    judge: (m) =>
      first(
        [
          m.http === 200,
          () => `HTTP ${show(m.http)}, expected 200${typeof m.error === 'string' ? `: ${m.error}` : ''}`,
        ],
        [isInt(m.total_active_products), `total_active_products is ${show(m.total_active_products)}, not an integer`],
      ) ?? compare(m, 'total_active_products', t.activeProducts),
    example: { http: 200, total_active_products: 1_000_001, error: null },
  },
  {
    id: 'smoke.9',
    phase: 'smoke',
    section: 'Smoke 9',
    kind: 'blocking',
    threshold: t.searchLatency,
    title: `public search latency: the runbook's 3 requests each ${formatThreshold(t.searchLatency)}, and p99 of at least ${p99MinSamples} ${formatThreshold(t.searchLatency)}`,
    expected: `each ${formatThreshold(t.searchLatency)}; p99 ${formatThreshold(t.searchLatency)} over ≥ ${p99MinSamples} valid samples`,
    action: 'HOLD — investigate warm-up; flag to Rex before Go',
    judge: (m) => {
      const three = Array.isArray(m.runbook_three_ms) ? (m.runbook_three_ms as unknown[]) : [];
      const samples = Array.isArray(m.samples_ms) ? (m.samples_ms as unknown[]) : [];
      const bad = samples.filter((s) => !isNum(s)).length;
      const p99 = percentile(samples.filter(isNum), 99);
      const fast = (ms: unknown) => isNum(ms) && meets(ms, t.searchLatency);
      // How hard the sample itself pressed the API when it failed: a reader tells the API's own trouble from a burst.
      const load =
        isNum(m.most_in_flight) && m.most_in_flight > 1
          ? `, with up to ${m.most_in_flight} of the sample's requests in flight`
          : '';
      return first(
        [
          bad === 0 && m.failed === 0 && three.every(isNum),
          () =>
            `${m.failed || bad} requests failed (an error or timeout is never a fast sample)${load}: ${show(m.failures)}`,
        ],
        [
          three.length === 3 && three.every(fast),
          `the runbook's 3 requests took ${three.map((x) => (isNum(x) ? numberInWords(x) : show(x))).join(', ')} ms, expected each ${formatThreshold(t.searchLatency)}`,
        ],
        [
          !m.stopped_early,
          () =>
            `sampling stopped: ${show(m.stopped_early)}; ${samples.filter((s) => !fast(s)).length} slow samples of ${samples.length}${load}`,
        ],
        [samples.length >= p99MinSamples, `${samples.length} samples, the p99 needs at least ${p99MinSamples}`],
        [
          meets(p99, t.searchLatency),
          `p99 is ${Math.round(p99)} ms over ${samples.length} samples${load}, expected ${formatThreshold(t.searchLatency)}`,
        ],
      );
    },
    example: {
      runbook_three_ms: [10, 8, 9],
      samples_ms: Array.from({ length: p99MinSamples }, (_, i) => 5 + (i % 7)),
      failed: 0,
      failures: [],
      stopped_early: null,
    },
  },
  {
    // Not the runbook's: behind a balancer one replica of another build hides among good ones, so each replica's
    // own /health is asked on its local port, beside the public checks that go through the edge. Advisory, because a
    // replica that does not answer, or a smoke with no engine to ask, leaves the public checks standing; a replica
    // that names another build is a HOLD all the same (gonogo/decide.ts).
    id: 'smoke.replicas',
    phase: 'smoke',
    section: 'Smoke 1',
    kind: 'advisory',
    title:
      "Each API replica's own /health, on its local port behind the edge, names the build Docker says it runs (advisory)",
    expected: 'as many replicas as the service asks for, each: HTTP 200, naming the build its image was built from',
    action:
      'the gate holds while a replica serves another build: redeploy or roll back; a replica that does not answer is a task to look at (`npm run status`)',
    judge: (m) => {
      const reps = records(m.replicas);
      const wrong = reps.filter((r) => r.http !== 200 || typeof r.build !== 'string' || r.build !== r.runs);
      return first(
        [reps.length > 0, 'no API replica was measured'],
        [
          isNum(m.desired) && reps.length >= m.desired,
          () =>
            isNum(m.desired)
              ? `${numberInWords(reps.length)} of the ${numberInWords(m.desired)} API replicas the service asks for run`
              : 'the engine did not say how many API replicas the service asks for',
        ],
        [
          wrong.length === 0,
          () =>
            wrong
              .map(
                (r) =>
                  `replica ${word(r.slot)} on ${word(r.node)} (${word(r.url)}): ${r.http === 200 ? `names ${word(r.build)}, runs ${word(r.runs)}` : `HTTP ${word(r.http)}${typeof r.problem === 'string' ? `, ${r.problem}` : ''}`}`,
              )
              .join('; '),
        ],
      );
    },
    words: (m) => {
      const reps = records(m.replicas);
      const asked = isNum(m.desired) ? `${numberInWords(reps.length)} of ${numberInWords(m.desired)} running: ` : '';
      return reps.length
        ? asked +
            reps
              .map(
                (r) =>
                  `replica ${word(r.slot)} on ${word(r.node)}: ${r.http === 200 ? word(r.build) : `HTTP ${word(r.http)}`}`,
              )
              .join('; ')
        : undefined;
    },
    example: {
      desired: 1,
      replicas: [
        { slot: 1, node: 'host-1', url: 'http://127.0.0.1:8000', http: 200, build: 'abc1234', runs: 'abc1234' },
      ],
    },
  },
  {
    id: 'smoke.10',
    phase: 'smoke',
    section: 'Smoke 10',
    kind: 'advisory',
    threshold: t.certDays,
    title: `TLS certificate valid for the host and for server auth, key of at least RSA ${minKeyBits.RSA} / EC ${minKeyBits.EC} bits, notAfter ${formatThreshold(t.certDays)} from now (advisory)`,
    expected: `serverAuth, RSA ≥ ${minKeyBits.RSA} or EC ≥ ${minKeyBits.EC} bits, notAfter ${formatThreshold(t.certDays)}`,
    action: 'Renew the certificate before it gets close to expiry',
    judge: (m) =>
      first(
        [
          m.server_auth === true,
          'the leaf certificate is not for server authentication (extended key usage without serverAuth)',
        ],
        [
          (m.key_type === 'RSA' && isNum(m.key_bits) && m.key_bits >= minKeyBits.RSA) ||
            (m.key_type === 'EC' && isNum(m.key_bits) && m.key_bits >= minKeyBits.EC),
          () =>
            `weak key: ${show(m.key_type)} ${show(m.key_bits)} bits (at least RSA ${minKeyBits.RSA} or EC ${minKeyBits.EC})`,
        ],
      ) ?? compare(m, 'days_left', t.certDays, 'days until notAfter'),
    words: (m) =>
      isNum(m.days_left)
        ? `${numberInWords(m.days_left)} days left (until ${word(m.not_after)}); ${word(m.key_type)} key of ${show(m.key_bits)} bits; ${m.server_auth === true ? 'for server authentication' : 'not for server authentication'}`
        : undefined,
    example: {
      days_left: 200,
      not_after: '2027-06-01T00:00:00.000Z',
      key_type: 'RSA',
      key_bits: 2048,
      server_auth: true,
    },
  },

  // Sections 5.2 and 6: rollback and its verification.
  {
    id: 'rollback.target',
    phase: 'rollback',
    section: '5.2',
    kind: 'blocking',
    title: 'Previous images exist and are not the running build (checked before anything is stopped)',
    expected: 'PREV_API_IMAGE exists and differs from the running image',
    action: 'Refused: nothing stopped. List candidates with docker images buywhere-api | grep sha',
    judge: (m) =>
      first([
        typeof m.api === 'string' && m.api !== '' && typeof m.sha === 'string' && m.sha !== '',
        `no rollback target: ${show(m)}`,
      ]),
    example: { api: 'sha256:0000', sha: 'fff0000', source: '.rollback_state' },
  },
  {
    id: 'rollback.1',
    phase: 'rollback',
    section: 'Step 1',
    kind: 'blocking',
    title: 'Stop API and MCP',
    expected: 'none of them still running',
    action: 'Stop them by hand: docker compose stop api mcp scraper-scheduler',
    judge: (m) =>
      first([
        Array.isArray(m.still_running) && m.still_running.length === 0,
        () => `still running: ${Array.isArray(m.still_running) ? m.still_running.join(', ') : show(m.still_running)}`,
      ]),
    example: { still_running: [], stopped: ['api', 'mcp', 'scraper-scheduler'], no_container: [] },
  },
  {
    id: 'rollback.2',
    phase: 'rollback',
    section: 'Step 2',
    kind: 'blocking',
    title: 'Load rollback state: the previous images it names are still in the image store',
    expected: 'PREV_API_IMAGE present, and PREV_MCP_IMAGE when one is named',
    action: 'Pick an older build: docker images buywhere-api | grep sha',
    judge: (m) =>
      first(
        [m.api_present === true, () => `PREV_API_IMAGE ${show(m.api)} is not in the image store`],
        [m.mcp === null || m.mcp_present === true, () => `PREV_MCP_IMAGE ${show(m.mcp)} is not in the image store`],
      ),
    example: {
      api: 'sha256:0000',
      api_present: true,
      mcp: 'sha256:0001',
      mcp_present: true,
      source: '.rollback_state',
    },
  },
  {
    id: 'rollback.3',
    phase: 'rollback',
    section: 'Step 3',
    kind: 'blocking',
    title: 'Restore the previous image tags: buywhere-api:latest is the previous image again',
    expected: ':latest = previous image',
    action: 'Re-tag by hand: docker tag <PREV_API_IMAGE> buywhere-api:latest',
    judge: (m) =>
      first([
        typeof m.latest === 'string' && m.latest === m.target,
        `:latest ${show(m.latest)} is not ${show(m.target)}`,
      ]),
    example: { latest: 'sha256:0000', target: 'sha256:0000' },
  },
  {
    id: 'rollback.4',
    phase: 'rollback',
    section: 'Step 4',
    kind: 'blocking',
    threshold: t.rollbackUp,
    title: `Restart services with the prior image: local /health 200 within ${t.rollbackUp.value} s`,
    expected: `HTTP 200 ${formatThreshold(t.rollbackUp)} on the prior image`,
    action: 'Rollback failing: consider step 5 (migration downgrade) with Bolt',
    judge: (m) =>
      first(
        [m.http === 200, `HTTP ${show(m.http)}`],
        [
          typeof m.running_image === 'string' && m.running_image === m.target,
          `api runs ${show(m.running_image)}, not ${show(m.target)}`,
        ],
      ) ?? compare(m, 'seconds', t.rollbackUp, 'time to HTTP 200'),
    example: { http: 200, seconds: 3, running_image: 'sha256:0000', target: 'sha256:0000' },
  },
  {
    id: 'rollback.5',
    phase: 'rollback',
    section: 'Step 5',
    kind: 'optional',
    title: 'Migration downgrade to RUNBOOK_DOWNGRADE_TO, across reversible migrations only (only when asked)',
    expected: 'exit 0, alembic_version = target',
    action: 'Restore from backup with Bolt',
    judge: (m) =>
      first(
        [m.exit_code === 0, `alembic downgrade exit code ${show(m.exit_code)}`],
        [
          typeof m.after === 'string' && m.after === m.target,
          `alembic_version ${show(m.after)}, expected ${show(m.target)}`,
        ],
      ),
    example: { exit_code: 0, after: '0002_catalog', target: '0002_catalog' },
  },
  {
    id: 'rollback.6.smoke1',
    phase: 'rollback',
    section: '6',
    kind: 'blocking',
    title: 'Smoke 1 — public /health: HTTP 200, status ok',
    expected: 'HTTP 200, status: ok',
    action: 'Rollback not stable: page Bolt',
    judge: judges.health,
    example: { http: 200, status: 'ok' },
  },
  {
    id: 'rollback.6.smoke2',
    phase: 'rollback',
    section: '6',
    kind: 'blocking',
    threshold: t.dbResponse,
    title: 'Smoke 2 — public /health/detailed: all dependencies healthy',
    expected: `healthy, every dependency healthy, db_response_ms ${formatThreshold(t.dbResponse)}`,
    action: 'Rollback not stable: page Bolt',
    judge: judges.detailedHealth,
    example: { http: 200, status: 'healthy', db_response_ms: 3, dependencies: { db: 'healthy' } },
  },
  {
    id: 'rollback.6.smoke3',
    phase: 'rollback',
    section: '6',
    kind: 'blocking',
    title: 'Smoke 3 — public /v1/products returns products',
    expected: 'total > 0, products non-empty',
    action: 'Rollback not stable: page Bolt',
    judge: judges.products,
    example: { http: 200, total: 1, products: 1 },
  },
  {
    id: 'rollback.6.smoke4',
    phase: 'rollback',
    section: '6',
    kind: 'blocking',
    title: 'Smoke 4 — public search "laptop" returns results priced in USD',
    expected: '≥ 1 product in USD with a price > 0',
    action: 'Rollback not stable: page Bolt',
    judge: judges.searchUsd,
    example: { http: 200, total: 1, usd_priced: 1, currencies: ['USD'] },
  },
  {
    id: 'rollback.6.smoke5',
    phase: 'rollback',
    section: '6',
    kind: 'blocking',
    title: 'Smoke 5 — public search "iphone" returns a named product',
    expected: 'products[0].name non-blank',
    action: 'Rollback not stable: page Bolt',
    judge: judges.namedProduct,
    example: { http: 200, total: 1, first_product: 'x' },
  },
  {
    id: 'rollback.6.redirect',
    phase: 'rollback',
    section: '6',
    kind: 'blocking',
    title: `public /go/B09G9HDHJT redirects with the ${affiliateTag} tag`,
    expected: `https on amazon.com with exactly one tag=${affiliateTag}`,
    action: 'Rollback not stable: page Sol/Link',
    judge: judges.redirect,
    example: { statuses: [302], final: `https://www.amazon.com/dp/B09G9HDHJT?tag=${affiliateTag}`, problem: null },
  },
  {
    id: 'rollback.6.errors',
    phase: 'rollback',
    section: '6',
    kind: 'blocking',
    threshold: t.errorRate,
    title: `Error rate ${formatThreshold(t.errorRate)} since the rollback (public /metrics)`,
    expected: formatThreshold(t.errorRate),
    action: 'Rollback not stable: page Bolt',
    judge: (m) => compare(m, 'error_pct', t.errorRate, '5xx share'),
    example: { error_pct: 0, errors: 0, total: 40 },
  },
  {
    id: 'rollback.6.alerts',
    phase: 'rollback',
    section: '6',
    kind: 'blocking',
    title: 'No new P1/critical alerts since the rollback began',
    expected: '0 new firing',
    action: 'Rollback not stable: page Bolt',
    judge: (m) => first([Array.isArray(m.new) && m.new.length === 0, `new P1 alerts: ${show(m.new)}`]),
    example: { new: [], still_resolving: [] },
  },
  {
    id: 'rollback.7',
    phase: 'rollback',
    section: 'Step 7',
    kind: 'blocking',
    title: 'Communicate: "rollback complete" post written and the rollback recorded in history',
    expected: 'post written, history appended',
    action: 'Post to #us-launch-ops and DM Rex by hand',
    judge: (m) => first([m.recorded === true, 'the rollback is not recorded in history']),
    example: { recorded: true, post: 'ROLLBACK COMPLETE' },
  },
] as const satisfies ReadonlyArray<Omit<Entry, 'id' | 'phase'> & { id: string; phase: RunbookPhase }>;

export type CheckId = (typeof entries)[number]['id'];

export const catalogue: ReadonlyArray<Entry> = entries as unknown as Entry[];
const byId = new Map<string, Entry>(catalogue.map((e) => [e.id, e]));

export function entry(id: CheckId): Entry {
  return byId.get(id)!;
}

export function lookup(id: string): Entry | undefined {
  return byId.get(id);
}

export const checksOf = (phase: RunbookPhase) => catalogue.filter((e) => e.phase === phase);

/** "Smoke 9 — search latency: …": the title a spec and a report give the check. */
export const titleOf = (id: CheckId) => {
  const e = entry(id);
  return `${e.section} — ${e.title}`;
};

/** Judges a measured record against its entry; anything that is not a record is not met. */
export function judge(id: string, measured: unknown, s: JudgeSettings): string | undefined {
  const e = byId.get(id);
  if (!e) return `${id} is not a runbook check`;
  if (typeof measured !== 'object' || measured === null || Array.isArray(measured))
    return `nothing was measured (${show(measured)})`;
  try {
    return e.judge(measured as Measured, s);
  } catch (err) {
    return `the measured record could not be judged: ${(err as Error).message}`;
  }
}

export interface GoCondition {
  n: number;
  title: string;
  /** The catalogue check whose record decides it. */
  check: CheckId;
  action: string;
  /** The measured record in words for Rex; undefined when the record lacks what it needs. */
  present: (m: Measured) => string | undefined;
}

const word = (v: unknown) => (typeof v === 'string' ? v : show(v));
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const ago = (hours: number) =>
  hours < 1
    ? `${Math.round(hours * 60)} min`
    : hours < 48
      ? `${Math.round(hours * 10) / 10} h`
      : `${Math.round(hours / 24)} days`;

/** Runbook section 4: the seven mandatory conditions, each decided by one check. */
export const conditions: ReadonlyArray<GoCondition> = [
  {
    n: 1,
    title: 'API health endpoint',
    check: 'smoke.1',
    action: 'HOLD — page Bolt',
    present: (m) =>
      num(m.http) === undefined
        ? undefined
        : `HTTP ${m.http}, status ${word(m.status)}${typeof m.build === 'string' ? `, build ${m.build}` : ''}`,
  },
  {
    n: 2,
    title: 'DB healthy',
    check: 'smoke.2',
    action: 'HOLD — page Bolt',
    present: (m) => {
      const deps = m.dependencies && typeof m.dependencies === 'object' ? Object.entries(m.dependencies) : [];
      if (num(m.db_response_ms) === undefined) return undefined;
      return `${word(m.status)}, database answered in ${m.db_response_ms} ms${deps.length ? `; ${deps.map(([k, v]) => `${k} ${String(v)}`).join(', ')}` : ''}`;
    },
  },
  {
    n: 3,
    title: 'Search functional',
    check: 'smoke.4',
    action: 'HOLD — page Bolt',
    present: (m) =>
      num(m.total) === undefined
        ? undefined
        : `${m.total} results for "laptop", ${num(m.usd_priced) ?? 0} priced in USD`,
  },
  {
    n: 4,
    title: 'Affiliate redirects',
    check: 'smoke.6',
    action: 'HOLD — page Sol/Link',
    present: (m) =>
      Array.isArray(m.statuses) && typeof m.final === 'string'
        ? `${m.statuses.join(' → ')} to ${m.final}${typeof m.problem === 'string' ? ` (${m.problem})` : ''}`
        : undefined,
  },
  {
    n: 5,
    title: 'Backup completed',
    check: 'preflight.1.5',
    action: 'HOLD — run backup first',
    present: (m) => {
      const h = num(m.age_h);
      if (h === undefined) return undefined;
      const rows = num(m.products_rows);
      const newer = Array.isArray(m.newer_incomplete) ? m.newer_incomplete.length : 0;
      return [
        `last complete backup ${ago(Math.max(0, h))} old${typeof m.file === 'string' ? ` (${m.file})` : ''}`,
        rows === undefined ? '' : `, read to its end: ${withThousands(rows)} products`,
        newer ? `; ${newer} newer backup${newer > 1 ? 's' : ''} not complete` : '',
      ].join('');
    },
  },
  {
    n: 6,
    title: 'Disk usage',
    check: 'preflight.1.4',
    action: 'HOLD — emergency cleanup',
    present: (m) =>
      num(m.used_pct) === undefined ? undefined : `disk ${numberInWords(m.used_pct as number)} % of ${word(m.path)}`,
  },
  {
    n: 7,
    title: 'P99 latency',
    check: 'smoke.9',
    action: 'HOLD — investigate warm-up',
    present: (m) => {
      const samples = Array.isArray(m.samples_ms) ? m.samples_ms.filter((x): x is number => typeof x === 'number') : [];
      if (!samples.length) return undefined;
      const three = Array.isArray(m.runbook_three_ms)
        ? ` (runbook: ${m.runbook_three_ms.map((x) => (isNum(x) ? numberInWords(x) : word(x))).join(' / ')} ms)`
        : '';
      return `p99 ${numberInWords(percentile(samples, 99))} ms over ${samples.length} searches${three}`;
    },
  },
];

const records = (v: unknown): Array<Record<string, unknown>> =>
  Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];

const isDigest = (x: unknown) => typeof x === 'string' && /^sha256:[0-9a-f]{64}$/.test(x);

/** A step's wait deadline, in ms, from its threshold in seconds. */
export function deadlineMs(id: CheckId): number {
  const th = entry(id).threshold;
  if (!th || th.unit !== 's') throw new Error(`${id} has no threshold in seconds`);
  return th.value * 1000;
}

export interface TriggerDef {
  name: string;
  unit: string;
  warning: number;
  critical: number;
  /** sustained: the breach must hold for the window; consecutive: N failing samples in a row; instant: now. */
  mode: 'sustained' | 'consecutive' | 'instant';
  /** Runbook wording of the thresholds, for reports. */
  text: string;
}

const trigger = (
  name: string,
  unit: string,
  warning: number,
  critical: number,
  mode: TriggerDef['mode'],
): TriggerDef => {
  const v = (n: number) => (unit === '%' ? `> ${n}%` : unit === 'failures' ? `${n}` : `> ${n} ${unit}`);
  const text =
    mode === 'consecutive'
      ? `warning ${warning} failure; critical ${critical} consecutive failures`
      : mode === 'sustained'
        ? `warning ${v(warning)} for 5 min; critical ${v(critical)} for 5 min`
        : `warning ${v(warning)}; critical ${v(critical)}`;
  return { name, unit, warning, critical, mode, text };
};

/** Runbook section 4, rollback triggers (post-launch). Warnings share their numbers with the checks above. */
export const rollbackTriggers: TriggerDef[] = [
  trigger('5xx error rate', '%', t.errorRate.value, 2, 'sustained'),
  trigger('P99 search latency', 's', 1, 3, 'sustained'),
  trigger('API health check', 'failures', 1, 3, 'consecutive'),
  trigger('DB pool usage', '%', t.pool.value, 90, 'instant'),
  trigger('Redis memory', '%', t.pool.value, t.disk.value, 'instant'),
  trigger('Disk', '%', t.disk.value, 92, 'instant'),
];
