// Lays out the staging project directory (the local stand-in for /home/paperclip/buywhere-api), builds its
// images and brings the stack up or down.
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { compose, composeArgs, detectCompose, type ComposeProject } from '../lib/probes/compose.js';
import { parseEnvFile, formatEnvFile } from '../lib/core/env-syntax.js';
import { run, tail } from '../lib/core/exec.js';
import { waitHealthy } from '../lib/probes/health.js';
import { imageInfo, tagImage, volumesNotLabelled } from '../lib/probes/docker.js';
import { ensureCa, issueServerCert } from './tls.js';
import { runOneOff } from '../lib/probes/oneoff.js';
import { activeTargets } from '../lib/probes/prometheus.js';
import { waitUntil } from '../lib/core/wait.js';

export const stagingSource = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(stagingSource, '..');

export const dataServices = ['db', 'db_replica', 'pgbouncer', 'redis'];
export const appServices = ['api', 'mcp', 'scraper-scheduler'];
export const monitoringServices = ['backup-cron', 'metrics-collector', 'blackbox-exporter', 'alertmanager'];
/** What stands in front of the host (production's proxy): staging starts it, the runbook's deploy never does. */
export const edgeServices = ['edge'];

export interface StagingPaths {
  projectDir: string;
  upstream: string;
  composeFile: string;
  envFile: string;
}

/** The project directory lives outside the tracked tree (git-ignored .staging/) unless RUNBOOK_STAGING_DIR says where. */
export function stagingPaths(): StagingPaths {
  const projectDir = resolve(process.env.RUNBOOK_STAGING_DIR ?? join(repoRoot, '.staging', 'buywhere-api'));
  return {
    projectDir,
    upstream: `${projectDir}.upstream.git`,
    composeFile: join(projectDir, 'docker-compose.yml'),
    envFile: join(projectDir, '.env'),
  };
}

export function readStagingEnv(paths = stagingPaths()): Map<string, string> {
  return parseEnvFile(readFileSync(paths.envFile, 'utf8'), paths.envFile).values;
}

const git = (cwd: string, args: string[]) =>
  run(
    ['git', '-c', 'user.name=BuyWhere Staging', '-c', 'user.email=staging@buywhere.invalid', ...args] as [
      string,
      ...string[],
    ],
    {
      cwd,
      timeoutMs: 30_000,
    },
  );

async function mustGit(cwd: string, args: string[]) {
  const r = await git(cwd, args);
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed in ${cwd}:\n${tail(r.output)}`);
  return r.output.trim();
}

/** Bundles the reference API and MCP into single files: containers have no npm, so nothing installs there. */
async function bundle(projectDir: string) {
  for (const app of ['api', 'mcp']) {
    await esbuild({
      entryPoints: [join(stagingSource, app, 'src', 'server.ts')],
      outfile: join(projectDir, app, 'dist', 'server.js'),
      bundle: true,
      platform: 'node',
      target: 'node18',
      format: 'cjs',
      external: ['pg-native'],
      logLevel: 'error',
      legalComments: 'none',
    });
  }
}

function syncSources(projectDir: string) {
  const copy = (from: string, to = from) =>
    cpSync(join(stagingSource, from), join(projectDir, to), { recursive: true });
  copy('docker-compose.yml');
  copy('swarm.yml');
  copy('alembic.ini');
  copy('alembic');
  copy('stack');
  copy('api/Dockerfile');
  copy('mcp/Dockerfile');
  if (!existsSync(join(projectDir, 'api', 'build.env'))) copy('api/build.env');
  copy('project.gitignore', '.gitignore');
  copy('env.example', '.env.example');
  mkdirSync(join(projectDir, 'backups'), { recursive: true });
}

const secret = (bytes: number) => randomBytes(bytes).toString('hex');

/** Writes .env on first use, with fresh random secrets; later runs keep the secrets and refresh the rest. */
function writeEnv(paths: StagingPaths, baseImage: string, appImage: string): { fresh: boolean } {
  const defaults = parseEnvFile(
    readFileSync(join(stagingSource, 'defaults.env'), 'utf8'),
    'staging/defaults.env',
  ).values;
  const fresh = !existsSync(paths.envFile);
  const current = fresh ? new Map<string, string>() : readStagingEnv(paths);
  const pick = (k: string, make: () => string) => current.get(k) ?? make();
  const postgres = pick('POSTGRES_PASSWORD', () => secret(16));
  const redis = pick('REDIS_PASSWORD', () => secret(16));
  const values = new Map<string, string>([...defaults, ...[...current].filter(([k]) => !defaults.has(k))]);
  values.set('POSTGRES_PASSWORD', postgres);
  values.set('REDIS_PASSWORD', redis);
  values.set(
    'JWT_SECRET_KEY',
    pick('JWT_SECRET_KEY', () => secret(32)),
  );
  values.set(
    'BUYWHERE_API_KEY',
    pick('BUYWHERE_API_KEY', () => `bw_${secret(16)}`),
  );
  values.set('DATABASE_URL', `postgresql://buywhere:${postgres}@127.0.0.1:${defaults.get('PGBOUNCER_PORT')}/catalog`);
  values.set('REDIS_URL', `redis://:${redis}@127.0.0.1:${defaults.get('REDIS_PORT')}/0`);
  values.set('BASE_IMAGE', baseImage);
  values.set('APP_BASE_IMAGE', appImage);
  values.set(
    'STAGING_LAYOUT',
    pick('STAGING_LAYOUT', () => secret(8)),
  );
  replaceEnv(paths, values);
  return { fresh };
}

function replaceEnv(paths: StagingPaths, values: Map<string, string>) {
  const tmp = `${paths.envFile}.tmp`;
  writeFileSync(tmp, formatEnvFile(values), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  rmSync(paths.envFile, { force: true });
  cpSync(tmp, paths.envFile);
  chmodSync(paths.envFile, 0o600);
  rmSync(tmp);
}

/** Sets (a string) or removes (null) keys of the project's .env, keeping the rest as it is. */
export function updateStagingEnv(paths: StagingPaths, changes: Record<string, string | null>) {
  const values = readStagingEnv(paths);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) values.delete(k);
    else values.set(k, v);
  }
  replaceEnv(paths, values);
}

/** Builds (once per package list) the base every service runs on, or the slim one of the API and MCP images. */
export async function buildBaseImage(kind: 'base' | 'app' = 'base'): Promise<string> {
  const r = await run(['bash', join(stagingSource, 'base', 'build-base.sh'), kind], {
    timeoutMs: 20 * 60_000,
    onLine: (l) => process.stderr.write(`  base: ${l}\n`),
  });
  if (r.exitCode !== 0) throw new Error(`base image build failed:\n${tail(r.output)}`);
  return r.output.trim().split('\n').at(-1)!;
}

/** Creates or refreshes the project directory: sources, bundles, .env, TLS, and its git repo with upstream. */
export async function layoutProject(opts: {
  baseImage: string;
  /** The slim base of the API and MCP images. */
  appImage: string;
  log?: (m: string) => void;
}): Promise<StagingPaths & { freshSecrets: boolean }> {
  const paths = stagingPaths();
  const log = opts.log ?? (() => {});
  mkdirSync(paths.projectDir, { recursive: true });
  syncSources(paths.projectDir);
  await bundle(paths.projectDir);
  const { fresh } = writeEnv(paths, opts.baseImage, opts.appImage);
  const tlsDir = join(paths.projectDir, 'tls');
  await ensureCa(tlsDir);
  if (!existsSync(join(tlsDir, 'server.crt')))
    await issueServerCert(tlsDir, { days: Number(process.env.API_CERT_DAYS ?? 365) });
  if (!existsSync(join(paths.projectDir, '.git'))) {
    await mustGit(paths.projectDir, ['init', '-q', '-b', 'master']);
    await mustGit(paths.projectDir, ['remote', 'add', 'origin', paths.upstream]);
    log(`laid out ${paths.projectDir}`);
  }
  // A project directory moved, or kept when its upstream beside it was not, would fail preflight 1.1's fetch on
  // every run: the upstream is made again from the checkout, and origin pointed at it.
  const upstreamMade = !existsSync(join(paths.upstream, 'HEAD'));
  if (upstreamMade) {
    await mustGit(dirname(paths.upstream), ['init', '-q', '--bare', '-b', 'master', paths.upstream]);
    if ((await git(paths.projectDir, ['remote', 'set-url', 'origin', paths.upstream])).exitCode !== 0)
      await mustGit(paths.projectDir, ['remote', 'add', 'origin', paths.upstream]);
  }
  await mustGit(paths.projectDir, ['add', '-A']);
  const dirty = await mustGit(paths.projectDir, ['status', '--porcelain']);
  if (dirty) {
    await mustGit(paths.projectDir, ['commit', '-q', '-m', 'Sync from staging/']);
    log('committed the staging sources in the project directory');
  }
  if (dirty || upstreamMade) await mustGit(paths.projectDir, ['push', '-q', '-u', 'origin', 'master']);
  if (upstreamMade) log(`made the project's upstream ${paths.upstream}`);
  return { ...paths, freshSecrets: fresh };
}

export async function stagingCompose(paths = stagingPaths()): Promise<ComposeProject> {
  const env = readStagingEnv(paths);
  return {
    flavour: await detectCompose(),
    file: paths.composeFile,
    projectDir: paths.projectDir,
    projectName: env.get('COMPOSE_PROJECT_NAME')!,
  };
}

/** Builds buywhere-api and buywhere-mcp from the project directory's HEAD, labelled and tagged with its SHA. */
export async function buildAppImages(paths = stagingPaths(), log: (m: string) => void = () => {}) {
  const project = await stagingCompose(paths);
  const sha = await mustGit(paths.projectDir, ['rev-parse', '--short', 'HEAD']);
  const r = await compose(project, composeArgs.build(project, ['api', 'mcp']), {
    env: { DEPLOY_SHA: sha },
    timeoutMs: 10 * 60_000,
    onLine: (l) => log(`  build: ${l}`),
  });
  if (r.exitCode !== 0) throw new Error(`image build failed (exit ${r.exitCode}):\n${tail(r.output)}`);
  await tagImage('buywhere-api:latest', 'buywhere-api', `sha-${sha}`);
  await tagImage('buywhere-mcp:latest', 'buywhere-mcp', `sha-${sha}`);
  return sha;
}

export async function stagingBuild(log: (m: string) => void) {
  log('base images…');
  const baseImage = await buildBaseImage();
  const appImage = await buildBaseImage('app');
  log(`base images ${baseImage}, ${appImage}`);
  const paths = await layoutProject({ baseImage, appImage, log });
  const env = readStagingEnv(paths);
  const foreign = await volumesNotLabelled(
    env.get('COMPOSE_PROJECT_NAME')!,
    'buywhere.staging.layout',
    env.get('STAGING_LAYOUT'),
  );
  if (paths.freshSecrets || foreign.length) {
    // Volumes left by another layout (an earlier one, or another checkout's) hold databases made with other
    // passwords: start from nothing.
    if (foreign.length) log(`volumes of another staging layout: ${foreign.join(', ')}; removing them`);
    const project = await stagingCompose(paths);
    await compose(project, composeArgs.down(project, true), { timeoutMs: 120_000 });
  }
  const missing = !(await imageInfo('buywhere-api:latest')) || !(await imageInfo('buywhere-mcp:latest'));
  if (missing || paths.freshSecrets || process.env.STAGING_REBUILD === '1') {
    log('building buywhere-api and buywhere-mcp…');
    const sha = await buildAppImages(paths, log);
    log(`images built and tagged sha-${sha}`);
  }
  return paths;
}

/** Brings the whole stack up in runbook order and waits until every long-running service is healthy. */
export async function stagingUp(log: (m: string) => void) {
  const paths = await stagingBuild(log);
  const project = await stagingCompose(paths);
  // A swarm staging binds the same host ports (`staging:up -- --swarm`, or a swarm test that was killed): it goes
  // first, rather than every data service failing to bind and the wait running out minutes later. Loaded here:
  // the swarm module builds on this one.
  const swarm = await import('./swarm.js');
  if (await swarm.swarmStagingRuns()) {
    log('a swarm staging of this project holds its ports: taking it down first');
    await swarm.stagingDownSwarm(log);
  }
  const up = async (services: string[]) => {
    const r = await compose(project, composeArgs.up(project, services), { timeoutMs: 120_000 });
    if (r.exitCode !== 0) throw new Error(`compose up ${services.join(' ')} failed:\n${tail(r.output)}`);
  };
  const t0 = performance.now();
  await up(dataServices);
  await waitHealthy(project.projectName, dataServices, { timeoutMs: 180_000 });
  log(`data services healthy after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const m = await compose(project, composeArgs.runRm(project, 'migrate'), {
    timeoutMs: 15 * 60_000,
    onLine: (l) => log(`  migrate: ${l}`),
  });
  if (m.exitCode !== 0) throw new Error(`migrations failed (exit ${m.exitCode}):\n${tail(m.output)}`);
  await up([...appServices, ...edgeServices, ...monitoringServices]);
  await waitHealthy(project.projectName, [...dataServices, ...appServices, ...edgeServices, ...monitoringServices], {
    timeoutMs: 300_000,
  });
  await waitScraped(paths);
  log(`staging is up and healthy after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return paths;
}

/**
 * Staging is up once its monitoring sees it: every target Prometheus scrapes answered its last scrape. Until the
 * first scrape after a (re)start a target is `unknown`, and a watch started then is rightly blind.
 */
export async function waitScraped(paths = stagingPaths()) {
  const prometheus = `http://127.0.0.1:${readStagingEnv(paths).get('PROMETHEUS_PORT')}`;
  await waitUntil(
    async () => {
      const targets = await activeTargets(prometheus);
      const notUp = targets.filter((x) => x.health !== 'up');
      if (targets.length > 0 && notUp.length === 0) return { ready: true, value: targets.length };
      const last = notUp.map((x) => `${x.job} ${x.instance}: ${x.health} ${x.lastError}`.trim()).join('; ');
      return { ready: false, last: last || 'no active target' };
    },
    { what: 'Prometheus to scrape every target', timeoutMs: 60_000, intervalMs: 1000 },
  );
}

/**
 * One pg_dump into backups/ now, as the backup-cron service makes them (the staging backup command): its script in a
 * one-off container of the base image, through the engine. Compose v1's `run` links a one-off to the service's
 * running container, which the host network refuses. The password travels in the container's environment.
 */
export async function stagingBackup(log: (m: string) => void) {
  const paths = stagingPaths();
  const env = readStagingEnv(paths);
  const r = await runOneOff({
    image: env.get('BASE_IMAGE')!,
    cmd: ['sh', '/stack/backup.sh'],
    env: [...[...env].map(([k, v]) => `${k}=${v}`), 'BACKUP_ONCE=1'],
    binds: [`${join(paths.projectDir, 'stack')}:/stack:ro`, `${join(paths.projectDir, 'backups')}:/backups`],
    network: 'host',
    purpose: 'staging-backup',
    timeoutMs: 10 * 60_000,
  });
  if (r.exitCode !== 0)
    throw new Error(`backup failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}):\n${tail(r.output)}`);
  log(tail(r.output, 1));
}

export async function stagingDown(log: (m: string) => void) {
  const paths = stagingPaths();
  if (!existsSync(paths.envFile)) return log('no staging project directory; nothing to stop');
  const project = await stagingCompose(paths);
  const r = await compose(project, composeArgs.down(project, true), { timeoutMs: 120_000 });
  if (r.exitCode !== 0) throw new Error(`compose down failed:\n${tail(r.output)}`);
  log('staging stack removed (containers and volumes)');
}
