// Resolves the target the runbook runs against (RUNBOOK_TARGET, staging by default), applies the RUNBOOK_*
// overrides and validates every setting once, before any check. Secrets are wrapped so they print as [redacted].
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, ConfigErrors } from '../core/errors.js';
import { parseEnvFile } from '../core/env-syntax.js';
import { Secret, redactUrl } from '../core/secret.js';
import { p99MinSamples } from '../../runbook/catalogue.js';
import { backupFormats, type BackupFormat } from '../probes/backup.js';
import { orchestratorKinds, type OrchestratorKind } from '../operations/orchestrator.js';

export type TargetName = 'staging' | 'production';

export interface Target {
  name: TargetName;
  /** The deployed app's checkout: /home/paperclip/buywhere-api on production. */
  projectDir: string;
  composeFile: string;
  /** The Swarm override deployed with the compose file, relative to the project directory. */
  swarmFile: string;
  composeProject: string;
  /** Image repositories the compose file tags as :latest. */
  apiImage: string;
  mcpImage: string;
  /** The public address, through whatever stands in front of the host: smoke, the gate, rollback §6, the watch. */
  apiUrl: string;
  /** The API container's own port on the host (the runbook's localhost:8000): deploy step 5, rollback step 4. */
  apiLocalUrl: string;
  mcpUrl: string;
  /** CA to trust for the API's certificate; the system store when unset. */
  caFile: string | undefined;
  /** Data-service URLs; each one unset is reached inside its container instead (lib/harness/data-services.ts). */
  databaseUrl: Secret | undefined;
  replicaUrl: Secret | undefined;
  pgbouncerAdminUrl: Secret | undefined;
  redisUrl: Secret | undefined;
  apiKey: Secret;
  backupsDir: string;
  backupCommand: string[];
  /** File names of real backups, and the dump format they start with. */
  backupPattern: string;
  backupFormat: BackupFormat;
  /** What runs the stack: Compose on one host, or Swarm services (RUNBOOK_ORCHESTRATOR). */
  orchestrator: OrchestratorKind;
  /**
   * The registry every node pulls from (RUNBOOK_REGISTRY: host:port[/path]): deploy step 2 pushes the sha- tags
   * there and a stack names its images by digest. Unset on one host, where the images the deploy built are there.
   */
  registry: string | undefined;
  diskPath: string;
  deployBranch: string;
  criticalServices: string[];
  monitoringServices: string[];
  prometheusUrl: string | undefined;
  alertmanagerUrl: string | undefined;
  /** Loopback admin endpoint of the staging API's fault switches; never set on production. */
  adminUrl: string | undefined;
  /** Requests in the smoke 9 p99 sample. */
  p99Samples: number;
  /** Max WAL received but not replayed on the replica, in bytes. */
  replicaMaxLagBytes: number;
  /** Evidence older than this is stale for the gate, in minutes. */
  evidenceMaxAgeMin: number;
  /** The running build as the operator states it (RUNBOOK_DEPLOY_SHA); Docker's answer must agree. */
  statedBuild: string | undefined;
  /** Run the backup command when preflight 1.5 finds no fresh backup. */
  runBackup: boolean;
  /** Restore the backup 1.5 chose into a throwaway container of the db image, and count its products. */
  restoreDrill: boolean;
  /** Run the runbook's cleanup when 1.4 finds the disk too full, then measure again. */
  runCleanup: boolean;
  /** Staging only: caps the waits of deploy steps 3 and 5 and rollback step 4, in seconds; always unset on production. */
  stagingWaitS: number | undefined;
  reportsDir: string;
  /** The key that seals evidence (lib/core/seal.ts): outside the reports, readable by its owner only. */
  evidenceKeyFile: string;
  /** Secret values to scrub from any text the harness writes. */
  secretValues: string[];
}

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

type Kind =
  | 'path'
  | 'url'
  | 'secret-url'
  | 'secret'
  | 'int'
  | 'bool'
  | 'list'
  | 'name'
  | 'file'
  | 'sha'
  | 'glob'
  | 'backup-format'
  | 'orchestrator'
  | 'registry';

interface Setting {
  key: keyof Target;
  env: string;
  kind: Kind;
  doc: string;
  /** The largest value an int setting accepts. */
  max?: number;
}

/** Every setting a user can override, with its environment variable. Defaults live in the target tables below. */
export const settings: Setting[] = [
  { key: 'projectDir', env: 'RUNBOOK_PROJECT_DIR', kind: 'path', doc: 'the deployed app checkout' },
  {
    key: 'composeFile',
    env: 'RUNBOOK_COMPOSE_FILE',
    kind: 'name',
    doc: 'compose file, relative to the project directory',
  },
  {
    key: 'swarmFile',
    env: 'RUNBOOK_SWARM_FILE',
    kind: 'name',
    doc: 'Swarm override deployed with the compose file (RUNBOOK_ORCHESTRATOR=swarm), relative to the project directory',
  },
  { key: 'composeProject', env: 'RUNBOOK_COMPOSE_PROJECT', kind: 'name', doc: 'compose project name' },
  { key: 'apiImage', env: 'RUNBOOK_API_IMAGE', kind: 'name', doc: 'API image repository' },
  { key: 'mcpImage', env: 'RUNBOOK_MCP_IMAGE', kind: 'name', doc: 'MCP image repository' },
  { key: 'apiUrl', env: 'RUNBOOK_API_URL', kind: 'url', doc: 'API public base URL (smoke, the gate, the watch)' },
  {
    key: 'apiLocalUrl',
    env: 'RUNBOOK_API_LOCAL_URL',
    kind: 'url',
    doc: "API container's local base URL (deploy step 5, rollback step 4)",
  },
  { key: 'mcpUrl', env: 'RUNBOOK_MCP_URL', kind: 'url', doc: 'MCP base URL' },
  { key: 'caFile', env: 'RUNBOOK_CA_FILE', kind: 'file', doc: 'PEM CA bundle to trust for the API' },
  {
    key: 'databaseUrl',
    env: 'RUNBOOK_DB_URL',
    kind: 'secret-url',
    doc: 'primary database URL; unset, psql runs inside the db container',
  },
  {
    key: 'replicaUrl',
    env: 'RUNBOOK_REPLICA_URL',
    kind: 'secret-url',
    doc: 'replica database URL; unset, psql runs inside the db_replica container',
  },
  {
    key: 'pgbouncerAdminUrl',
    env: 'RUNBOOK_PGBOUNCER_ADMIN_URL',
    kind: 'secret-url',
    doc: 'PgBouncer admin console URL (database pgbouncer); unset, psql runs inside the pgbouncer container',
  },
  {
    key: 'redisUrl',
    env: 'RUNBOOK_REDIS_URL',
    kind: 'secret-url',
    doc: 'Redis URL; unset, redis-cli runs inside the redis container',
  },
  { key: 'apiKey', env: 'BUYWHERE_API_KEY', kind: 'secret', doc: 'API key for /v1/status' },
  { key: 'backupsDir', env: 'RUNBOOK_BACKUPS_DIR', kind: 'path', doc: 'backups directory' },
  {
    key: 'backupCommand',
    env: 'RUNBOOK_BACKUP_COMMAND',
    kind: 'list',
    doc: 'backup command, space-separated, run in the project directory',
  },
  {
    key: 'backupPattern',
    env: 'RUNBOOK_BACKUP_PATTERN',
    kind: 'glob',
    doc: 'file names the backup command writes (* and ? only)',
  },
  {
    key: 'backupFormat',
    env: 'RUNBOOK_BACKUP_FORMAT',
    kind: 'backup-format',
    doc: 'dump format of a backup: custom (PGDMP), gzip or sql',
  },
  {
    key: 'orchestrator',
    env: 'RUNBOOK_ORCHESTRATOR',
    kind: 'orchestrator',
    doc: `what runs the stack: ${orchestratorKinds.join(' or ')}`,
  },
  {
    key: 'registry',
    env: 'RUNBOOK_REGISTRY',
    kind: 'registry',
    doc: 'registry the nodes of a multi-host swarm pull from (host:port[/path]); deploy step 2 pushes the sha- tags there',
  },
  { key: 'diskPath', env: 'RUNBOOK_DISK_PATH', kind: 'path', doc: 'filesystem to measure for 1.4' },
  { key: 'deployBranch', env: 'RUNBOOK_DEPLOY_BRANCH', kind: 'name', doc: 'branch that may be deployed' },
  {
    key: 'monitoringServices',
    env: 'RUNBOOK_MONITORING_SERVICES',
    kind: 'list',
    doc: 'services started by deploy step 7',
  },
  { key: 'prometheusUrl', env: 'RUNBOOK_PROMETHEUS_URL', kind: 'url', doc: 'Prometheus base URL' },
  { key: 'alertmanagerUrl', env: 'RUNBOOK_ALERTMANAGER_URL', kind: 'url', doc: 'Alertmanager base URL' },
  {
    key: 'p99Samples',
    env: 'RUNBOOK_P99_SAMPLES',
    kind: 'int',
    doc: `requests in the smoke 9 p99 sample (at least ${p99MinSamples})`,
  },
  { key: 'replicaMaxLagBytes', env: 'RUNBOOK_REPLICA_MAX_LAG_BYTES', kind: 'int', doc: 'replica replay lag threshold' },
  {
    key: 'evidenceMaxAgeMin',
    env: 'RUNBOOK_EVIDENCE_MAX_AGE_MIN',
    kind: 'int',
    // Evidence older than the runbook's whole deploy window (07:00–08:30) is from another morning's run.
    max: 90,
    doc: "evidence freshness window for the gate, in minutes; at most 90, the runbook's deploy window",
  },
  {
    key: 'runBackup',
    env: 'RUNBOOK_RUN_BACKUP',
    kind: 'bool',
    doc: 'run the backup command when no fresh backup exists',
  },
  {
    key: 'restoreDrill',
    env: 'RUNBOOK_RESTORE_DRILL',
    kind: 'bool',
    doc: 'restore the backup 1.5 chose into a throwaway container of the db image (never the live db) and count its products',
  },
  {
    key: 'runCleanup',
    env: 'RUNBOOK_RUN_CLEANUP',
    kind: 'bool',
    doc: "run the runbook's cleanup when 1.4 finds the disk too full (docker system prune -f without volumes, *.log older than 7 days), then measure again",
  },
  {
    key: 'stagingWaitS',
    env: 'RUNBOOK_STAGING_WAIT_S',
    kind: 'int',
    doc: 'staging only: caps how long deploy steps 3 and 5 and rollback step 4 wait for their services, in seconds; ignored on production',
  },
  { key: 'reportsDir', env: 'RUNBOOK_REPORTS_DIR', kind: 'path', doc: 'where reports and evidence go' },
  {
    key: 'evidenceKeyFile',
    env: 'RUNBOOK_EVIDENCE_KEY_FILE',
    kind: 'path',
    doc: 'the key that seals evidence; created mode 600 on the first run, kept out of the reports',
  },
  {
    key: 'statedBuild',
    env: 'RUNBOOK_DEPLOY_SHA',
    kind: 'sha',
    doc: 'the build running on the target, where Docker cannot be asked; must agree with Docker where it can',
  },
];

type Raw = Partial<Record<keyof Target, string>>;

/** Settings a run does without: each has a meaning when unset (the system CA store, no Prometheus, exec). */
const optional: ReadonlyArray<keyof Target> = [
  'caFile',
  'prometheusUrl',
  'alertmanagerUrl',
  'statedBuild',
  'databaseUrl',
  'replicaUrl',
  'pgbouncerAdminUrl',
  'redisUrl',
  'stagingWaitS',
  'registry',
];

const common: Raw = {
  p99Samples: String(p99MinSamples),
  replicaMaxLagBytes: String(16 * 1024 * 1024),
  evidenceMaxAgeMin: '30',
  runBackup: 'false',
  restoreDrill: 'false',
  runCleanup: 'false',
  reportsDir: join(repoRoot, 'reports'),
  evidenceKeyFile: join(homedir(), '.config', 'buywhere-runbook', 'evidence.key'),
  diskPath: '/',
  deployBranch: 'master',
  composeProject: 'buywhere-api',
  orchestrator: 'compose',
  swarmFile: 'swarm.yml',
  apiImage: 'buywhere-api',
  mcpImage: 'buywhere-mcp',
};

/**
 * The runbook's own values. The data services have no URL: the runbook reaches them with `docker exec`, and so do
 * the checks, unless the operator sets one.
 */
const production: Raw = {
  ...common,
  projectDir: '/home/paperclip/buywhere-api',
  composeFile: 'docker-compose.prod.yml',
  apiUrl: 'https://api.buywhere.ai',
  apiLocalUrl: 'http://localhost:8000',
  mcpUrl: 'http://localhost:8080',
  backupsDir: '/home/paperclip/buywhere-api/backups',
  backupCommand: './deploy.sh backup',
  // What ./deploy.sh backup is taken to write: pg_dump custom-format files. Set both where it writes otherwise.
  backupPattern: '*.dump',
  backupFormat: 'custom',
  monitoringServices: 'backup-cron metrics-collector blackbox-exporter alertmanager loki fluent-bit grafana',
};

function stagingDefaults(env: NodeJS.ProcessEnv): { raw: Raw; problems: string[] } {
  const projectDir = resolve(env.RUNBOOK_STAGING_DIR ?? join(repoRoot, '.staging', 'buywhere-api'));
  const envFile = join(projectDir, '.env');
  if (!existsSync(envFile)) {
    return {
      raw: { ...common, projectDir },
      problems: [`${envFile} does not exist: run \`npm run staging:up\` first`],
    };
  }
  const v = parseEnvFile(readFileSync(envFile, 'utf8'), envFile).values;
  const need = (k: string) => v.get(k) ?? '';
  const pw = encodeURIComponent(need('POSTGRES_PASSWORD'));
  return {
    raw: {
      ...common,
      projectDir,
      composeFile: 'docker-compose.yml',
      composeProject: need('COMPOSE_PROJECT_NAME') || 'buywhere-api',
      apiUrl: `https://localhost:${need('API_PORT')}`,
      // A .env laid out before the edge has no local port: missing, never a URL with an empty port.
      apiLocalUrl: v.get('API_LOCAL_PORT') ? `http://127.0.0.1:${need('API_LOCAL_PORT')}` : undefined,
      mcpUrl: `http://127.0.0.1:${need('MCP_PORT')}`,
      caFile: join(projectDir, 'tls', 'ca.crt'),
      databaseUrl: `postgresql://buywhere:${pw}@127.0.0.1:${need('DB_PORT')}/catalog`,
      replicaUrl: `postgresql://buywhere:${pw}@127.0.0.1:${need('DB_REPLICA_PORT')}/catalog`,
      pgbouncerAdminUrl: `postgresql://buywhere:${pw}@127.0.0.1:${need('PGBOUNCER_PORT')}/pgbouncer`,
      redisUrl: need('REDIS_URL'),
      apiKey: need('BUYWHERE_API_KEY'),
      backupsDir: join(projectDir, 'backups'),
      backupCommand: `${join(repoRoot, 'node_modules', '.bin', 'tsx')} ${join(repoRoot, 'staging', 'cli.ts')} backup`,
      backupPattern: 'catalog-*.dump',
      backupFormat: 'custom',
      monitoringServices: 'backup-cron metrics-collector blackbox-exporter alertmanager',
      prometheusUrl: `http://127.0.0.1:${need('PROMETHEUS_PORT')}`,
      alertmanagerUrl: `http://127.0.0.1:${need('ALERTMANAGER_PORT')}`,
      adminUrl: v.get('ADMIN_ENABLED') === '1' ? `http://127.0.0.1:${need('API_ADMIN_PORT')}` : undefined,
      // Written by `npm run staging:up -- --swarm --nodes N` (N ≥ 2), removed when the stack goes back to one host.
      registry: v.get('REGISTRY') || undefined,
    } as Raw & { adminUrl?: string },
    problems: [],
  };
}

export interface Resolved {
  /** A setting that is missing is a getter that throws its ConfigError: a phase that never reads it runs without it. */
  target: Target;
  /** Settings that differ from the target's defaults, for the start-of-run banner; secrets redacted. */
  overrides: Array<{ env: string; value: string }>;
  /** Required settings with no value, by key. */
  missing: Map<keyof Target, ConfigError>;
  /** Settings given with a value that does not parse: always an error, whatever the phase. */
  malformed: ConfigError[];
}

/**
 * The settings each phase cannot run without. Smoke and the gate only talk to the API and the MCP server, so CI
 * can run them against a remote staging with nothing else set; every other phase needs them all.
 */
export const phaseSettings: Record<string, ReadonlyArray<keyof Target> | 'all'> = {
  preflight: 'all',
  deploy: 'all',
  rollback: 'all',
  smoke: ['apiUrl', 'mcpUrl', 'apiKey'],
  gonogo: ['apiUrl', 'mcpUrl'],
};

/** Throws, naming every one at once, when a setting the phase (or 'all') needs is missing. */
export function requireSettings(r: Resolved, needs: ReadonlyArray<keyof Target> | 'all'): void {
  const order = (e: ConfigError) => settings.findIndex((s) => s.env === e.setting);
  const problems = [
    ...r.malformed,
    ...[...r.missing].filter(([key]) => needs === 'all' || needs.includes(key)).map(([, e]) => e),
  ].sort((a, b) => order(a) - order(b));
  if (problems.length === 1) throw problems[0];
  if (problems.length) throw new ConfigErrors(problems);
}

/** Resolves the target and checks it holds what `needs` reads, listing every problem at once. */
export function resolveFor(needs: ReadonlyArray<keyof Target> | 'all', env: NodeJS.ProcessEnv = process.env): Resolved {
  const r = resolveTarget(env);
  requireSettings(r, needs);
  return r;
}

/** A setting's value, or undefined where it is missing: for what records a target rather than uses it. */
export function settingOf<K extends keyof Target>(t: Target, key: K): Target[K] | undefined {
  try {
    return t[key];
  } catch {
    return undefined;
  }
}

export function resolveTarget(env: NodeJS.ProcessEnv = process.env): Resolved {
  const name = (env.RUNBOOK_TARGET ?? 'staging') as TargetName;
  if (name !== 'staging' && name !== 'production') {
    throw new ConfigError(
      'RUNBOOK_TARGET',
      '"staging" or "production"',
      JSON.stringify(env.RUNBOOK_TARGET),
      'Unset it for staging, or set RUNBOOK_TARGET=production on the production host.',
    );
  }
  let defaults: Raw;
  let stagingProblems: string[] = [];
  if (name === 'staging') {
    const s = stagingDefaults(env);
    defaults = s.raw;
    stagingProblems = s.problems;
  } else defaults = production;

  const raw: Raw = { ...defaults };
  const overrides: Resolved['overrides'] = [];
  for (const s of settings) {
    const given = env[s.env];
    if (given === undefined || given === '') continue;
    raw[s.key] = given;
    if (given !== defaults[s.key]) {
      const shown =
        s.kind === 'secret' ? '[redacted]' : s.kind === 'secret-url' || s.kind === 'url' ? redactUrl(given) : given;
      // Said, so nobody reads the banner as a shortened deadline on production.
      const inert = name === 'production' && s.key === 'stagingWaitS';
      overrides.push({ env: s.env, value: inert ? `${shown} (ignored on production)` : shown });
    }
  }

  const missing = (s: Setting) => {
    const where =
      name === 'production'
        ? `export ${s.env}=… before running (see README, "On the production host")`
        : `set ${s.env}, or run \`npm run staging:up\` to lay out the staging project`;
    return new ConfigError(
      s.env,
      s.doc,
      stagingProblems[0] ?? 'nothing',
      where[0]!.toUpperCase() + where.slice(1) + '.',
    );
  };
  const out: Record<string, unknown> = { name };
  // Every problem at once: one run names every setting to fix, not one per attempt.
  const problems: ConfigError[] = [];
  const absent = new Map<keyof Target, ConfigError>();
  for (const s of settings) {
    const value = raw[s.key];
    if (value === undefined || value === '') {
      if (optional.includes(s.key)) {
        out[s.key] = undefined;
        continue;
      }
      absent.set(s.key, missing(s));
      continue;
    }
    try {
      out[s.key] = parse(s, value);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err);
      absent.set(s.key, err);
    }
  }
  out.criticalServices = ['api', 'db', 'db_replica', 'pgbouncer', 'redis'];
  // Inert on production whatever the environment says: the runbook's own deadlines hold there.
  if (name === 'production') out.stagingWaitS = undefined;
  out.adminUrl = name === 'staging' ? (defaults as { adminUrl?: string }).adminUrl : undefined;
  const target = out as unknown as Target;
  if (target.p99Samples < p99MinSamples) {
    const err = new ConfigError(
      'RUNBOOK_P99_SAMPLES',
      `at least ${p99MinSamples}: a p99 from fewer samples is not a p99 the gate accepts`,
      String(target.p99Samples),
      'Raise RUNBOOK_P99_SAMPLES or unset it.',
    );
    problems.push(err);
    absent.set('p99Samples', err);
  }
  for (const [key, err] of absent) {
    Object.defineProperty(target, key, {
      get() {
        throw err;
      },
      enumerable: false,
    });
  }
  // Not enumerable: the list must never travel with a serialised or printed target.
  Object.defineProperty(target, 'secretValues', { value: collectSecrets(target, env), enumerable: false });
  const malformed = new Set(problems);
  return {
    target,
    overrides,
    missing: new Map([...absent].filter(([, e]) => !malformed.has(e))),
    malformed: problems,
  };
}

function parse(s: Setting, value: string): unknown {
  const bad = (expected: string) =>
    new ConfigError(
      s.env,
      expected,
      s.kind.startsWith('secret') ? 'a value that does not parse' : JSON.stringify(value),
      `Fix ${s.env} (${s.doc}).`,
    );
  switch (s.kind) {
    case 'url': {
      try {
        const u = new URL(value);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad('an http or https URL');
        return value.replace(/\/+$/, '');
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw bad('an http or https URL');
      }
    }
    case 'secret-url': {
      try {
        new URL(value);
      } catch {
        throw bad('a URL such as postgresql://user:password@host:port/db');
      }
      return new Secret(value);
    }
    case 'secret':
      return new Secret(value);
    case 'int': {
      const range = s.max === undefined ? 'a whole number greater than 0' : `a whole number from 1 to ${s.max}`;
      if (!/^\d+$/.test(value) || Number(value) <= 0 || Number(value) > (s.max ?? Infinity)) throw bad(range);
      return Number(value);
    }
    case 'bool': {
      if (!['1', '0', 'true', 'false', 'yes', 'no'].includes(value)) throw bad('true or false');
      return ['1', 'true', 'yes'].includes(value);
    }
    case 'list':
      return value.split(/\s+/).filter(Boolean);
    case 'path':
      if (!isAbsolute(value)) throw bad('an absolute path');
      return value;
    case 'file': {
      try {
        accessSync(value, constants.R_OK);
      } catch {
        throw bad('a readable file');
      }
      return value;
    }
    case 'name':
      if (!/^[\w.@/-]+$/.test(value)) throw bad('a plain name');
      return value;
    case 'glob':
      if (!/^[\w.*?@-]+$/.test(value)) throw bad('a file name pattern such as catalog-*.dump');
      return value;
    case 'backup-format':
      if (!(value in backupFormats)) throw bad(Object.keys(backupFormats).join(', '));
      return value;
    case 'orchestrator':
      if (!(orchestratorKinds as readonly string[]).includes(value)) throw bad(orchestratorKinds.join(' or '));
      return value;
    case 'registry':
      // A registry's address, never a URL: no scheme, no credentials (those belong to `docker login`).
      if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9._-]+)*$/.test(value))
        throw bad('a registry address such as registry.internal:5000 (no scheme, no user or password)');
      return value;
    case 'sha':
      if (!/^[0-9a-f]{7,40}$/.test(value)) throw bad('a git SHA of 7 to 40 lower-case hex digits');
      return value;
  }
}

function collectSecrets(t: Target, env: NodeJS.ProcessEnv): string[] {
  const values = new Set<string>();
  // Every secret setting whole, and the password inside every URL setting, plain or secret; a Slack webhook
  // URL is a credential by itself.
  const urls = [
    settingOf(t, 'apiUrl'),
    settingOf(t, 'apiLocalUrl'),
    settingOf(t, 'mcpUrl'),
    t.prometheusUrl,
    t.alertmanagerUrl,
    env.SLACK_WEBHOOK_URL,
  ].filter((u): u is string => !!u);
  if (env.SLACK_WEBHOOK_URL) values.add(env.SLACK_WEBHOOK_URL);
  for (const v of [
    ...(['databaseUrl', 'replicaUrl', 'pgbouncerAdminUrl', 'redisUrl', 'apiKey'] as const).flatMap(
      (k) => settingOf(t, k)?.reveal() ?? [],
    ),
    ...urls,
  ]) {
    if (!urls.includes(v)) values.add(v);
    try {
      const u = new URL(v);
      if (u.password) {
        values.add(u.password);
        values.add(decodeURIComponent(u.password));
      }
    } catch {
      // A bare secret, already added.
    }
  }
  const envFile = join(t.projectDir, '.env');
  if (existsSync(envFile)) {
    try {
      const v = parseEnvFile(readFileSync(envFile, 'utf8'), envFile).values;
      for (const k of [
        'JWT_SECRET_KEY',
        'POSTGRES_PASSWORD',
        'REDIS_PASSWORD',
        'BUYWHERE_API_KEY',
        'DATABASE_URL',
        'REDIS_URL',
      ]) {
        const x = v.get(k);
        if (x) values.add(x);
      }
    } catch {
      // Preflight 1.2 reports a malformed .env; scrubbing still covers the URLs above.
    }
  }
  return [...values].filter((x) => x.length >= 4);
}

/**
 * Where reports go, even when the rest of the configuration does not resolve: a run that cannot start
 * still writes the evidence that says why.
 */
export function reportsDirFrom(env: NodeJS.ProcessEnv = process.env): string {
  return env.RUNBOOK_REPORTS_DIR || common.reportsDir!;
}

/** The evidence key's file, like reportsDirFrom: a run that cannot resolve its settings still seals what it writes. */
export function evidenceKeyFileFrom(env: NodeJS.ProcessEnv = process.env): string {
  return env.RUNBOOK_EVIDENCE_KEY_FILE || common.evidenceKeyFile!;
}

/**
 * The run's settings as a plain value that travels from the phase's global setup to its workers and reporter
 * (Vitest's provide). Secrets travel by reference only, the setting that holds them: each process reads the value
 * where it is given, so no secret is ever copied into what Vitest passes around.
 */
export interface SettingsSnapshot {
  name: TargetName;
  values: Partial<Record<keyof Target, unknown>>;
  secrets: Partial<Record<keyof Target, { setting: string }>>;
  /** Settings the run has no usable value for: reading one throws its error, as it would have at resolve time. */
  problems: Partial<Record<keyof Target, { setting: string; expected: string; found: string; action: string }>>;
  overrides: Resolved['overrides'];
}

const secretKinds: ReadonlySet<Kind> = new Set(['secret', 'secret-url']);

export function snapshotSettings(r: Resolved): SettingsSnapshot {
  const snap: SettingsSnapshot = {
    name: r.target.name,
    values: {},
    secrets: {},
    problems: {},
    overrides: r.overrides,
  };
  const problems = new Map<keyof Target, ConfigError>([
    ...r.missing,
    ...r.malformed.map((e) => [keyOf(e), e] as const),
  ]);
  for (const key of [...settings.map((s) => s.key), 'criticalServices', 'adminUrl'] as Array<keyof Target>) {
    const problem = problems.get(key);
    if (problem) {
      const { setting, expected, found, action } = problem;
      snap.problems[key] = { setting, expected, found, action };
      continue;
    }
    const s = settings.find((x) => x.key === key);
    if (s && secretKinds.has(s.kind)) {
      if (r.target[key] !== undefined) snap.secrets[key] = { setting: s.env };
      continue;
    }
    snap.values[key] = r.target[key];
  }
  return snap;
}

const keyOf = (e: ConfigError): keyof Target =>
  settings.find((s) => s.env === e.setting)?.key ?? ('p99Samples' as keyof Target);

/**
 * The target a worker or the reporter works with, rebuilt from the run's snapshot. Each secret is read, on first
 * use, where the setup read it (the environment, or staging's .env); one that is gone by then is an error when it
 * is read.
 */
export function targetFromSnapshot(snap: SettingsSnapshot, env: NodeJS.ProcessEnv = process.env): Target {
  const out: Record<string, unknown> = { name: snap.name, ...snap.values };
  const target = out as unknown as Target;
  let fresh: Target | undefined;
  for (const [key, ref] of Object.entries(snap.secrets) as Array<[keyof Target, { setting: string }]>) {
    Object.defineProperty(target, key, {
      get() {
        fresh ??= resolveTarget(env).target;
        const value = settingOf(fresh, key);
        if (!(value instanceof Secret))
          throw new ConfigError(
            ref.setting,
            'the value this run started with',
            'none now',
            `Set ${ref.setting} again and rerun.`,
          );
        return value;
      },
      enumerable: true,
    });
  }
  for (const [key, p] of Object.entries(snap.problems) as Array<
    [keyof Target, NonNullable<SettingsSnapshot['problems'][keyof Target]>]
  >) {
    const err = new ConfigError(p.setting, p.expected, p.found, p.action);
    Object.defineProperty(target, key, {
      get() {
        throw err;
      },
      enumerable: false,
    });
  }
  Object.defineProperty(target, 'secretValues', { value: collectSecrets(target, env), enumerable: false });
  return target;
}

export const dryRunEnv = 'RUNBOOK_DRY_RUN';
export const confirmEnv = 'RUNBOOK_CONFIRM';
export const killPointEnv = 'RUNBOOK_TEST_KILL_POINT';

/**
 * What the operator asks of this one run, beside the target's settings: read here, like every setting, so no other
 * module reads the environment for one.
 */
export interface RunOptions {
  /** The target asked for, as given: named even when the rest of the configuration does not resolve. */
  targetName: string;
  /** RUNBOOK_DRY_RUN=1: print the plan and change nothing. */
  dryRun: boolean;
  /** RUNBOOK_CONFIRM: the short SHA a production deploy or rollback is confirmed with. */
  confirm: string | undefined;
  /** RUNBOOK_DOWNGRADE_TO: the migration revision a rollback downgrades to, when asked. */
  downgradeTo: string | undefined;
  /** RUNBOOK_ROLLBACK_REASON: why the rollback runs, for its posts and history. */
  rollbackReason: string | undefined;
  /** SLACK_WEBHOOK_URL: where the status posts also go. */
  slackWebhook: string | undefined;
  /** RUNBOOK_TEST_KILL_POINT: a test's kill point (lib/harness/killpoint.ts); inert outside staging. */
  killPoint: string | undefined;
}

export function runOptions(env: NodeJS.ProcessEnv = process.env): RunOptions {
  const given = (k: string) => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  return {
    targetName: given('RUNBOOK_TARGET') ?? 'staging',
    dryRun: env[dryRunEnv] === '1',
    confirm: given(confirmEnv),
    downgradeTo: given('RUNBOOK_DOWNGRADE_TO'),
    rollbackReason: given('RUNBOOK_ROLLBACK_REASON'),
    slackWebhook: given('SLACK_WEBHOOK_URL'),
    killPoint: given(killPointEnv),
  };
}

/** The watch's windows and queries (npm run watch): tests shorten them through the environment. */
export interface WatchSettings {
  durationS: number;
  intervalS: number;
  windowS: number;
  /** The range of the default queries' rates, in seconds. */
  rateS: number;
  autoRollback: boolean;
  /** PromQL that replaces the default 5xx share or search p99, when given. */
  promql5xx: string | undefined;
  promqlP99: string | undefined;
}

/** Throws naming the setting when a window is not a number of seconds above 0. */
export function watchSettings(env: NodeJS.ProcessEnv = process.env): WatchSettings {
  const num = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0)
      throw new Error(`${name}: expected a number of seconds > 0, found ${JSON.stringify(raw)}`);
    return n;
  };
  return {
    durationS: num('RUNBOOK_WATCH_DURATION_S', 3600),
    intervalS: num('RUNBOOK_WATCH_INTERVAL_S', 15),
    windowS: num('RUNBOOK_WATCH_WINDOW_S', 300),
    rateS: num('RUNBOOK_WATCH_RATE_S', 60),
    autoRollback: env.RUNBOOK_AUTO_ROLLBACK === '1',
    promql5xx: env.RUNBOOK_PROMQL_5XX_PCT || undefined,
    promqlP99: env.RUNBOOK_PROMQL_SEARCH_P99 || undefined,
  };
}
