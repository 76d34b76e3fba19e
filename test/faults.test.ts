// The fault matrix (npm run test:faults): every fault staging and the in-process test servers can inject,
// the phase that must catch it, and the outcome: the failing check, the Go/No-Go decision, the action and
// the time to detect. Zero false GO; no run past its deadline; no crash without a clear message.
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/core/exec';
import { waitUntil } from '../lib/core/wait';
import { queryOnce, replicaStatus } from '../lib/probes/postgres';
import { showPools } from '../lib/probes/pgbouncer';
import { acquireLock } from '../lib/operations/lock';
import type { Phase } from '../lib/harness/evidence';
import { issueServerCert } from '../staging/tls';
import { copyEvidence } from './support/evidence-copy';
import { backupsFolder, half, nearEmptyBackup, placeBackup, newestStagingBackup } from './support/backups';
import {
  gonogo,
  healthyEvidence,
  phase,
  reportsDir,
  resetFaults,
  setFaults,
  t,
  withStopped,
  reloadEdge,
  data,
  productionEnv,
} from './support/harness';

interface Fault {
  name: string;
  phase: Phase;
  /** Env for the phase run; a function so it can use servers started in beforeAll. */
  env?: () => Record<string, string>;
  /** Injects the fault around the phase run. */
  around?: (runIt: () => Promise<void>) => Promise<void>;
  check: string;
  status: 'fail' | 'error';
  message?: RegExp;
  /** The gate's decision on this evidence; none where the gate does not read the phase (rollback). */
  decision: 'GO' | 'HOLD' | 'none';
  action?: string;
  /** The phase's own deadline for this fault, in s. */
  deadlineS?: number;
}

let fake: Server;
let fakeUrl = '';
let healthyDeploy = '';
let healthyPreflight = '';
let healthySmoke = '';
const rows: string[][] = [];

const api = (switches: Record<string, number | boolean>) => async (runIt: () => Promise<void>) => {
  await setFaults(switches);
  try {
    await runIt();
  } finally {
    await resetFaults();
  }
};
const stopped = (service: string) => (runIt: () => Promise<void>) => withStopped(service, runIt);
const fakeApi = (): Record<string, string> => ({ RUNBOOK_API_URL: fakeUrl });

async function serverCert(opts: { days: number; hosts?: string[] }, runIt: () => Promise<void>) {
  const tlsDir = join(t.projectDir, 'tls');
  const keep = mkdtempSync(join(tmpdir(), 'rb-tls-'));
  for (const f of ['server.crt', 'server.key']) cpSync(join(tlsDir, f), join(keep, f));
  try {
    await issueServerCert(tlsDir, opts);
    await reloadEdge();
    await runIt();
  } finally {
    for (const f of ['server.crt', 'server.key']) cpSync(join(keep, f), join(tlsDir, f));
    await reloadEdge();
  }
}

const envFile = join(t.projectDir, '.env');
async function editedEnv(edit: (text: string) => string, mode: number, runIt: () => Promise<void>) {
  const original = readFileSync(envFile, 'utf8');
  try {
    writeFileSync(envFile, edit(original));
    chmodSync(envFile, mode);
    await runIt();
  } finally {
    writeFileSync(envFile, original);
    chmodSync(envFile, 0o600);
  }
}

const matrix: Fault[] = [
  {
    name: '/health answers 503',
    phase: 'smoke',
    around: api({ healthDown: true }),
    check: 'smoke.1',
    status: 'fail',
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: 'detailed health degraded',
    phase: 'smoke',
    around: api({ degradedHealth: true }),
    check: 'smoke.2',
    status: 'fail',
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: 'search prices in SGD',
    phase: 'smoke',
    around: api({ wrongCurrency: true }),
    check: 'smoke.4',
    status: 'fail',
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: 'search answers 503',
    phase: 'smoke',
    around: api({ search5xx: true }),
    check: 'smoke.4',
    status: 'fail',
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: 'redirect without tag',
    phase: 'smoke',
    around: api({ untaggedRedirect: true }),
    check: 'smoke.6',
    status: 'fail',
    decision: 'HOLD',
    action: 'HOLD — page Sol/Link',
  },
  {
    name: 'redirect with tag=buywhere-200',
    phase: 'smoke',
    around: api({ wrongTag: true }),
    check: 'smoke.6',
    status: 'fail',
    message: /buywhere-200/,
    decision: 'HOLD',
    action: 'HOLD — page Sol/Link',
  },
  {
    name: 'redirect to a lookalike host',
    phase: 'smoke',
    around: api({ lookalikeRedirect: true }),
    check: 'smoke.6',
    status: 'fail',
    message: /evil\.example/,
    decision: 'HOLD',
    action: 'HOLD — page Sol/Link',
  },
  {
    name: 'detailed health "healthy" with db down',
    phase: 'smoke',
    around: api({ lyingHealth: true }),
    check: 'smoke.2',
    status: 'fail',
    message: /dependencies not healthy: db="down"/,
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: 'USD products without a price',
    phase: 'smoke',
    around: api({ usdNoPrice: true }),
    check: 'smoke.4',
    status: 'fail',
    message: /0 products with currency "USD" and a price > 0/,
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: '/go/ answers 300 with an Amazon Location',
    phase: 'smoke',
    around: api({ redirectStatus: 300 }),
    check: 'smoke.6',
    status: 'fail',
    message: /statuses \[300\]: only 301, 302, 303, 307, 308 are redirects/,
    decision: 'HOLD',
    action: 'HOLD — page Sol/Link',
  },
  {
    name: '/go/ answers 304 with an Amazon Location',
    phase: 'smoke',
    around: api({ redirectStatus: 304 }),
    check: 'smoke.6',
    status: 'fail',
    message: /statuses \[304\]/,
    decision: 'HOLD',
    action: 'HOLD — page Sol/Link',
  },
  {
    name: 'redirect to amazon.com on port 8443',
    phase: 'smoke',
    around: api({ redirectPort: true }),
    check: 'smoke.6',
    status: 'fail',
    message: /names port 8443/,
    decision: 'HOLD',
    action: 'HOLD — page Sol/Link',
  },
  {
    name: 'redirect with userinfo',
    phase: 'smoke',
    around: api({ redirectUserinfo: true }),
    check: 'smoke.6',
    status: 'fail',
    message: /carries userinfo/,
    decision: 'HOLD',
    action: 'HOLD — page Sol/Link',
  },
  {
    name: 'slow search (2.1 s)',
    phase: 'smoke',
    around: api({ searchDelayMs: 2100 }),
    check: 'smoke.9',
    status: 'fail',
    decision: 'HOLD',
    action: 'HOLD — investigate warm-up',
  },
  {
    name: 'every response 6 s late',
    phase: 'smoke',
    around: api({ responseDelayMs: 6000 }),
    check: 'smoke.1',
    status: 'error',
    message: /no complete answer within 5000 ms/,
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: 'MCP stopped (non-blocking)',
    phase: 'smoke',
    around: stopped('mcp'),
    check: 'smoke.7',
    status: 'error',
    decision: 'GO',
  },
  {
    name: 'Redis stopped',
    phase: 'smoke',
    around: stopped('redis'),
    check: 'smoke.2',
    status: 'fail',
    message: /dependencies not healthy: redis="down"/,
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: 'replica stopped',
    phase: 'smoke',
    around: stopped('db_replica'),
    check: 'smoke.2',
    status: 'fail',
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: 'certificate expires in 10 days (advisory)',
    phase: 'smoke',
    around: (r) => serverCert({ days: 10 }, r),
    check: 'smoke.10',
    status: 'fail',
    decision: 'GO',
  },
  {
    name: 'certificate for another host',
    phase: 'smoke',
    around: (r) => serverCert({ days: 365, hosts: ['other.example'] }, r),
    check: 'smoke.1',
    status: 'error',
    message: /other\.example|altname/i,
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: 'API port refuses connections',
    phase: 'smoke',
    env: () => ({ RUNBOOK_API_URL: 'https://localhost:9' }),
    check: 'smoke.1',
    status: 'error',
    message: /ECONNREFUSED/,
    decision: 'HOLD',
    action: 'HOLD — page Bolt',
  },
  {
    name: 'socket accepts and never answers',
    phase: 'smoke',
    env: fakeApi,
    check: 'smoke.1',
    status: 'error',
    message: /no complete answer within/,
    decision: 'HOLD',
  },
  {
    name: 'body that never ends',
    phase: 'smoke',
    env: fakeApi,
    check: 'smoke.2',
    status: 'error',
    message: /no complete answer within/,
    decision: 'HOLD',
  },
  {
    name: 'non-JSON body',
    phase: 'smoke',
    env: fakeApi,
    check: 'smoke.3',
    status: 'fail',
    message: /total is "a body that is not JSON/,
    decision: 'HOLD',
  },
  {
    name: '10 MB body',
    phase: 'smoke',
    env: fakeApi,
    check: 'smoke.4',
    status: 'error',
    message: /larger than 1048576 bytes/,
    decision: 'HOLD',
  },
  {
    name: 'redirect loop',
    phase: 'smoke',
    env: fakeApi,
    check: 'smoke.6',
    status: 'fail',
    message: /redirect loop/,
    decision: 'HOLD',
    action: 'HOLD — page Sol/Link',
  },
  {
    name: 'MCP hangs (non-blocking)',
    phase: 'smoke',
    env: () => ({ RUNBOOK_MCP_URL: fakeUrl }),
    check: 'smoke.7',
    status: 'error',
    message: /no complete answer within/,
    decision: 'GO',
  },
  {
    name: 'wrong API key',
    phase: 'smoke',
    env: () => ({ BUYWHERE_API_KEY: 'bw_not_the_key' }),
    check: 'smoke.8',
    status: 'fail',
    message: /401/,
    decision: 'HOLD',
  },
  {
    name: 'dirty working tree',
    phase: 'preflight',
    around: async (r) => {
      writeFileSync(join(t.projectDir, 'stray.txt'), 'x');
      try {
        await r();
      } finally {
        rmSync(join(t.projectDir, 'stray.txt'));
      }
    },
    check: 'preflight.1.1',
    status: 'fail',
    message: /uncommitted/,
    decision: 'HOLD',
  },
  {
    name: '.env readable by others',
    phase: 'preflight',
    around: (r) => editedEnv((x) => x, 0o644, r),
    check: 'preflight.1.2.file',
    status: 'fail',
    decision: 'HOLD',
  },
  {
    name: '.env missing JWT_SECRET_KEY',
    phase: 'preflight',
    around: (r) => editedEnv((x) => x.replace(/^JWT_SECRET_KEY=.*\n/m, ''), 0o600, r),
    check: 'preflight.1.2.keys',
    status: 'fail',
    message: /JWT_SECRET_KEY/,
    decision: 'HOLD',
  },
  {
    name: 'malformed .env',
    phase: 'preflight',
    around: (r) => editedEnv((x) => `${x}not an assignment\n`, 0o600, r),
    check: 'preflight.config',
    status: 'error',
    message: /line \d+/,
    decision: 'HOLD',
  },
  {
    name: 'missing setting (production without BUYWHERE_API_KEY)',
    phase: 'preflight',
    env: () => ({ RUNBOOK_TARGET: 'production' }),
    check: 'preflight.config',
    status: 'error',
    message: /BUYWHERE_API_KEY/,
    decision: 'HOLD',
  },
  // Each data-service fault, over the URL staging gives and over `docker exec` as the production target reaches
  // the same services with no URL: the check fails the same way either way.
  ...(['url', 'exec'] as const).flatMap((via): Fault[] => {
    const env = via === 'exec' ? productionEnv : undefined;
    const over = ` (1.3 over ${via})`;
    return [
      {
        name: `db stopped${over}`,
        phase: 'preflight',
        around: stopped('db'),
        env,
        check: 'preflight.1.3.primary',
        status: 'error',
        message: via === 'exec' ? /service db of buywhere-api is not running/ : /DB primary/,
        decision: 'HOLD',
      },
      {
        name: `replica not streaming${over}`,
        phase: 'preflight',
        around: replicaNotStreaming,
        env,
        check: 'preflight.1.3.replica',
        status: 'fail',
        message: /streaming/,
        decision: 'HOLD',
      },
      {
        name: `clients waiting in a pool${over}`,
        phase: 'preflight',
        around: holdPool(20, 3),
        env,
        check: 'preflight.1.3.pgbouncer',
        status: 'fail',
        message: /waiting/,
        decision: 'HOLD',
      },
      {
        name: `Redis not answering${over}`,
        phase: 'preflight',
        around: stopped('redis'),
        env,
        check: 'preflight.1.3.redis',
        status: 'error',
        message: via === 'exec' ? /service redis of buywhere-api is not running/ : /Redis PING/,
        decision: 'HOLD',
      },
    ];
  }),
  {
    name: 'replica stopped (1.3)',
    phase: 'preflight',
    around: stopped('db_replica'),
    check: 'preflight.1.3.replica',
    status: 'error',
    decision: 'HOLD',
  },
  {
    name: 'Redis stopped (1.3)',
    phase: 'preflight',
    around: stopped('redis'),
    check: 'preflight.1.3.redis',
    status: 'error',
    decision: 'HOLD',
  },
  {
    name: 'PgBouncer pool held at 75%',
    phase: 'preflight',
    around: holdPool(15),
    check: 'preflight.1.3.pgbouncer',
    status: 'fail',
    message: /usage is 75%, expected < 70%/,
    decision: 'HOLD',
  },
  {
    name: 'disk 90% full',
    phase: 'preflight',
    around: fullDisk,
    env: () => ({ RUNBOOK_DISK_PATH: diskMount }),
    check: 'preflight.1.4',
    status: 'fail',
    decision: 'HOLD',
    action: 'HOLD — emergency cleanup',
  },
  {
    name: 'backup 25 h old, newer files not backups',
    phase: 'preflight',
    env: () => ({ RUNBOOK_BACKUPS_DIR: oldBackups() }),
    check: 'preflight.1.5',
    status: 'fail',
    message: /catalog-old.dump.* is (≈ )?25(\.\d+)? h, expected < 24 h/,
    decision: 'HOLD',
    action: 'HOLD — run backup first',
  },
  {
    name: 'no backup at all',
    phase: 'preflight',
    env: () => ({ RUNBOOK_BACKUPS_DIR: mkdtempSync(join(tmpdir(), 'rb-none-')) }),
    check: 'preflight.1.5',
    status: 'fail',
    decision: 'HOLD',
    action: 'HOLD — run backup first',
  },
  {
    name: 'the only backup cut short after its table of contents',
    phase: 'preflight',
    env: () => ({
      RUNBOOK_BACKUPS_DIR: only((dir) => placeBackup(realDump, dir, 'catalog-cut.dump', 1, half(realDump))),
    }),
    check: 'preflight.1.5',
    status: 'fail',
    message: /no complete backup in .*catalog-cut\.dump: it does not read to the end/,
    decision: 'HOLD',
    action: 'HOLD — run backup first',
  },
  {
    name: 'the only backup near-empty (1,000 products)',
    phase: 'preflight',
    env: () => ({ RUNBOOK_BACKUPS_DIR: nearEmptyDir }),
    check: 'preflight.1.5',
    status: 'fail',
    message: /holds 1,000 products, 0\.\d+ % of the live estimate .* near-empty/,
    decision: 'HOLD',
    action: 'HOLD — run backup first',
  },
  {
    name: '.env is a link to .env.example',
    phase: 'preflight',
    around: envIsExampleLink,
    check: 'preflight.1.2.file',
    status: 'fail',
    message: /\.env is the example.*link to .*\.env\.example/,
    decision: 'HOLD',
  },
  {
    name: ".env keeps the example's JWT_SECRET_KEY",
    phase: 'preflight',
    around: (r) => editedEnv((x) => x.replace(/^JWT_SECRET_KEY=.*$/m, 'JWT_SECRET_KEY=change-me'), 0o600, r),
    check: 'preflight.1.2.file',
    status: 'fail',
    message: /JWT_SECRET_KEY has the value \.env\.example gives/,
    decision: 'HOLD',
  },
  {
    name: 'deploy while another holds the lock',
    phase: 'deploy',
    around: async (r) => {
      const l = acquireLock(t.projectDir, 'fault matrix');
      try {
        await r();
      } finally {
        l.release();
      }
    },
    check: 'deploy.lock',
    status: 'error',
    message: /holds the deploy lock/,
    decision: 'HOLD',
  },
  {
    name: 'rollback with nothing to roll back to',
    phase: 'rollback',
    env: () => ({ RUNBOOK_API_IMAGE: 'buywhere-none', RUNBOOK_MCP_IMAGE: 'buywhere-none-mcp' }),
    check: 'rollback.target',
    status: 'error',
    message: /nothing to roll back to/,
    decision: 'none',
  },
];

let diskMount = '';
async function fullDisk(runIt: () => Promise<void>) {
  diskMount = mkdtempSync(join(tmpdir(), 'rb-disk-'));
  await run(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', diskMount]);
  try {
    writeFileSync(join(diskMount, 'fill'), Buffer.alloc(3.7 * 1024 * 1024));
    await runIt();
  } finally {
    await run(['umount', diskMount]);
  }
}

/** Real archives, made in beforeAll: the stack's own backup, and a complete one of a thousandth of the products. */
let realDump = '';
let nearEmptyDir = '';
const only = (place: (dir: string) => void) => {
  const dir = backupsFolder();
  place(dir);
  return dir;
};

/** .env replaced by a link to .env.example for the run (its keys present, so 1.2's other checks read it). */
async function envIsExampleLink(runIt: () => Promise<void>) {
  const keep = readFileSync(envFile, 'utf8');
  const example = join(t.projectDir, '.env.example');
  const exampleText = readFileSync(example, 'utf8');
  try {
    writeFileSync(example, keep);
    chmodSync(example, 0o600);
    rmSync(envFile);
    symlinkSync('.env.example', envFile);
    await runIt();
  } finally {
    rmSync(envFile, { force: true });
    writeFileSync(envFile, keep, { mode: 0o600 });
    chmodSync(envFile, 0o600);
    writeFileSync(example, exampleText);
    chmodSync(example, 0o644);
  }
}

/** A real dump 25 h old, beside newer files that are not backups: a log, an empty dump, a headerless dump. */
function oldBackups(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rb-old-'));
  placeBackup(realDump, dir, 'catalog-old.dump', 25);
  writeFileSync(join(dir, 'backup.log'), 'backup written');
  writeFileSync(join(dir, 'catalog-empty.dump'), '');
  writeFileSync(join(dir, 'catalog-text.dump'), 'not a dump');
  return dir;
}

/** Holds `n` of PgBouncer's server connections in open transactions, and queues `waiting` clients behind them. */
function holdPool(n: number, waiting = 0) {
  return async (runIt: () => Promise<void>) => {
    const url = /^DATABASE_URL=(.*)$/m.exec(readFileSync(envFile, 'utf8'))![1]!;
    const clients: pg.Client[] = [];
    const open = async () => {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => {});
      clients.push(c);
      await c.connect();
      return c;
    };
    try {
      for (let i = 0; i < n; i++) {
        const c = await open();
        await c.query('BEGIN');
        await c.query('SELECT 1');
      }
      // Each of these waits for a server connection the held ones never give back: PgBouncer's cl_waiting.
      for (let i = 0; i < waiting; i++) void (await open()).query('SELECT 1').catch(() => {});
      if (waiting)
        await waitUntil(
          async () => {
            const [p] = (await showPools(data.pgbouncer)).filter((x) => x.database === 'catalog');
            return (p?.waiting ?? 0) >= waiting
              ? { ready: true, value: null }
              : { ready: false, last: `${p?.waiting ?? 0} waiting` };
          },
          { what: `${waiting} clients waiting in PgBouncer`, timeoutMs: 15_000, intervalMs: 100 },
        );
      await runIt();
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    }
  };
}

/**
 * The replica with no primary to stream from: its primary_conninfo emptied and reloaded, so its WAL receiver stops
 * while it stays up and in recovery. Put back as it was after, and waited for until it streams again.
 */
async function replicaNotStreaming(runIt: () => Promise<void>) {
  const replica = data.replica;
  const [row] = await queryOnce<{ primary_conninfo: string }>(replica, 'SHOW primary_conninfo', 'replica conninfo');
  const original = row!.primary_conninfo;
  const streaming = (want: boolean) =>
    waitUntil(
      async () => {
        const s = await replicaStatus(replica);
        return (s.walReceiver === 'streaming') === want
          ? { ready: true, value: null }
          : { ready: false, last: `wal receiver ${s.walReceiver}` };
      },
      { what: `replica ${want ? '' : 'not '}streaming`, timeoutMs: 30_000, intervalMs: 100 },
    );
  const set = async (conninfo: string) => {
    await queryOnce(replica, `ALTER SYSTEM SET primary_conninfo = '${conninfo.replace(/'/g, "''")}'`, 'set conninfo');
    await queryOnce(replica, 'SELECT pg_reload_conf()', 'reload');
  };
  try {
    await set('');
    await streaming(false);
    await runIt();
  } finally {
    await set(original);
    await streaming(true);
  }
}

beforeAll(async () => {
  realDump = await newestStagingBackup();
  nearEmptyDir = backupsFolder();
  await nearEmptyBackup(nearEmptyDir, 'catalog-near-empty.dump');
  fake = createServer((req, res) => {
    const u = req.url ?? '/';
    if (u === '/health') return; // accepts, never answers
    if (u === '/health/detailed')
      return void res.writeHead(200, { 'content-type': 'application/json' }).write('{"status":');
    if (u.startsWith('/v1/products'))
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
    if (u.startsWith('/v1/search')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1024 * 1024, ' '));
      return void res.end('{}');
    }
    if (u === '/go/B09G9HDHJT') return void res.writeHead(302, { location: '/go/loop' }).end();
    if (u === '/go/loop') return void res.writeHead(302, { location: '/go/B09G9HDHJT' }).end();
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not json</html>');
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  ({ deploy: healthyDeploy, preflight: healthyPreflight, smoke: healthySmoke } = await healthyEvidence());
}, 300_000);

afterAll(() => {
  fake?.closeAllConnections();
  fake?.close();
  const widths = [44, 10, 34, 34, 9];
  const line = (cells: string[]) => cells.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i]!)).join(' │ ');
  process.stdout.write(
    `\n${line(['fault', 'phase', 'expected', 'got', 'detect'])}\n${widths.map((w) => '─'.repeat(w)).join('─┼─')}\n${rows.map(line).join('\n')}\n`,
  );
});

function gateDir(fault: Fault, phaseReports: string): string {
  const dir = reportsDir();
  mkdirSync(join(dir, 'evidence'), { recursive: true });
  const copy = (from: string, p: Phase) => copyEvidence(from, dir, p);
  copy(fault.phase === 'preflight' ? phaseReports : healthyPreflight, 'preflight');
  copy(fault.phase === 'smoke' ? phaseReports : healthySmoke, 'smoke');
  copy(fault.phase === 'deploy' ? phaseReports : healthyDeploy, 'deploy');
  return dir;
}

describe('fault matrix', () => {
  it(`has at least 30 faults (${matrix.length})`, () => expect(matrix.length).toBeGreaterThanOrEqual(30));

  for (const fault of matrix) {
    it(`${fault.name} → ${fault.check} ${fault.status}, ${fault.decision}`, async () => {
      let got = '';
      let detect = '';
      try {
        let r!: Awaited<ReturnType<typeof phase>>;
        const started = performance.now();
        const runIt = async () => {
          r = await phase(fault.phase, { env: fault.env?.() });
        };
        await (fault.around ? fault.around(runIt) : runIt());
        const wall = (performance.now() - started) / 1000;
        const c = r.check(fault.check);
        detect = `${(c.durationMs ?? 0) / 1000 < 0.01 ? '<0.01' : ((c.durationMs ?? 0) / 1000).toFixed(2)} s`;
        got = `${c.status}`;
        expect(r.exitCode, 'the phase exits non-zero').not.toBe(0);
        expect(c.status).toBe(fault.status);
        if (fault.message) expect(c.message).toMatch(fault.message);
        if (fault.action) expect(`${c.message} ${c.action}`).toContain(fault.action);
        expect(wall).toBeLessThan(fault.deadlineS ?? 120);

        if (fault.decision === 'none') return;
        // The gate runs with the settings the phase ran with, as Bolt would; only the fault differs.
        const g = await phase('gonogo', { reports: gateDir(fault, r.reports), env: fault.env?.() });
        const decision = JSON.parse(readFileSync(join(g.reports, 'evidence', 'gate.json'), 'utf8')) as {
          decision: string;
          conditions: Array<{ action: string; verdict: string }>;
        };
        got += `, ${decision.decision}`;
        if (decision.decision === 'HOLD' && fault.action) got += ` (${fault.action.replace('HOLD — ', '')})`;
        expect(decision.decision, 'Go/No-Go decision').toBe(fault.decision);
        expect(g.exitCode === 0, 'gonogo exit code matches the decision').toBe(fault.decision === 'GO');
        if (fault.action && fault.decision === 'HOLD')
          expect(decision.conditions.some((x) => x.verdict === 'HOLD' && x.action === fault.action)).toBe(true);
      } finally {
        rows.push([
          fault.name,
          fault.phase,
          `${fault.check} ${fault.status}, ${fault.decision}`,
          got || 'crashed',
          detect,
        ]);
      }
    }, 240_000);
  }
});

describe('no flaky HOLD on a healthy stack', () => {
  it('20 consecutive smoke + gonogo runs give 20 GOs', async () => {
    // Preflight evidence of its own: the matrix above takes longer than the gate's freshness window.
    const preflight = await phase('preflight');
    expect(preflight.exitCode, preflight.output).toBe(0);
    const decisions: string[] = [];
    for (let i = 0; i < 20; i++) {
      const dir = reportsDir();
      mkdirSync(join(dir, 'evidence'), { recursive: true });
      copyEvidence(preflight.reports, dir, 'preflight');
      copyEvidence(healthyDeploy, dir, 'deploy');
      await phase('smoke', { reports: dir });
      const g = await gonogo(dir);
      decisions.push(
        g.exitCode === 0
          ? 'GO'
          : `HOLD: ${g.reasons
              .split('\n')
              .filter((r) => r !== 'met')
              .join('; ')}`,
      );
    }
    expect(decisions).toEqual(Array(20).fill('GO'));
  }, 900_000);
});
