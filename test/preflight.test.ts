// Preflight against the real staging stack: passes when healthy, and each item fails with its message
// when its fault is injected on the real component.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../lib/core/exec';
import { phase, t, withStopped } from './support/harness';

const envFile = join(t.projectDir, '.env');

describe('preflight on the healthy stack', () => {
  it('every item passes, in runbook order, with what it measured', async () => {
    const r = await phase('preflight');
    expect(r.exitCode, r.output).toBe(0);
    expect(r.evidence.checks.map((c) => c.id)).toEqual([
      'preflight.1.1',
      'preflight.1.2.file',
      'preflight.1.2.keys',
      'preflight.1.2.values',
      'preflight.1.3.primary',
      'preflight.1.3.replica',
      'preflight.1.3.pgbouncer',
      'preflight.1.3.redis',
      'preflight.1.4',
      'preflight.1.5',
      'preflight.1.6',
    ]);
    expect(r.evidence.checks.every((c) => c.status === 'pass')).toBe(true);
    expect(r.check('preflight.1.1').measured).toMatchObject({ branch: 'master', ahead: 0, behind: 0 });
    // The build preflight vouches for is the checkout 1.1 read: the one deploy builds next.
    const head = (await run(['git', 'rev-parse', '--short', 'HEAD'], { cwd: t.projectDir })).output.trim();
    expect(head).toMatch(/^[0-9a-f]{7,40}$/);
    expect(r.evidence.deploySha).toBe(head);
  });
});

describe('1.1 git, in a temporary clone of the project', () => {
  const clone = mkdtempSync(join(tmpdir(), 'rb-git-'));
  const dir = join(clone, 'app');
  const git = (...args: string[]) =>
    run(['git', '-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args] as [string, ...string[]], { cwd: dir });
  afterAll(() => rmSync(clone, { recursive: true, force: true }));

  it('a dirty tree fails, then a branch ahead of upstream fails, then a missing upstream fails with the reason', async () => {
    await run(['git', 'clone', '-q', join(t.projectDir + '.upstream.git'), dir]);
    cpSync(envFile, join(dir, '.env'));
    chmodSync(join(dir, '.env'), 0o600);
    const env = { RUNBOOK_PROJECT_DIR: dir };
    writeFileSync(join(dir, 'stray.txt'), 'x');
    let r = await phase('preflight', { env });
    expect(r.check('preflight.1.1').status).toBe('fail');
    expect(r.check('preflight.1.1').message).toMatch(/uncommitted changes/);
    await git('add', 'stray.txt');
    await git('commit', '-qm', 'ahead');
    r = await phase('preflight', { env });
    expect(r.check('preflight.1.1').message).toMatch(/1 ahead, 0 behind "origin\/master"/);
    expect(r.check('preflight.1.1').measured).toMatchObject({ ahead: 1, behind: 0 });
    await git('branch', '--unset-upstream');
    r = await phase('preflight', { env });
    expect(r.check('preflight.1.1').message).toMatch(/has no upstream/);
    expect(r.exitCode).not.toBe(0);
  });
});

describe('1.2 .env', () => {
  const original = readFileSync(envFile, 'utf8');
  afterAll(() => {
    writeFileSync(envFile, original, { mode: 0o600 });
    chmodSync(envFile, 0o600);
  });

  it('a world-readable .env fails; a missing key fails; a wrong tag fails; values never printed', async () => {
    chmodSync(envFile, 0o644);
    let r = await phase('preflight');
    expect(r.check('preflight.1.2.file').message).toMatch(/mode "644" is readable by others/);
    chmodSync(envFile, 0o600);
    writeFileSync(
      envFile,
      original
        .replace(/^JWT_SECRET_KEY=.*$/m, 'JWT_SECRET_KEY=')
        .replace(/^AFFILIATE_TAG=.*$/m, 'AFFILIATE_TAG=buywhere-200'),
      { mode: 0o600 },
    );
    r = await phase('preflight');
    expect(r.check('preflight.1.2.keys').message).toMatch(/JWT_SECRET_KEY/);
    expect(r.check('preflight.1.2.values').message).toMatch(/AFFILIATE_TAG/);
    const secret = /^POSTGRES_PASSWORD=(.*)$/m.exec(original)![1]!;
    expect(r.output).not.toContain(secret);
    expect(JSON.stringify(r.evidence)).not.toContain(secret);
  });

  it('a malformed staging .env stops the run before any check, naming the line, with evidence that says so', async () => {
    writeFileSync(envFile, original + 'this line is not an assignment\n', { mode: 0o600 });
    try {
      const r = await phase('preflight');
      expect(r.exitCode).not.toBe(0);
      expect(r.evidence.outcome).toMatch(/configuration error: .*\.env line \d+: expected KEY=VALUE/);
      expect(r.check('preflight.config').status).toBe('error');
      expect(r.output).not.toContain(/^POSTGRES_PASSWORD=(.*)$/m.exec(original)![1]!);
    } finally {
      writeFileSync(envFile, original, { mode: 0o600 });
    }
  });

  it('only .env.example: fails, saying so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-env-'));
    writeFileSync(join(dir, '.env.example'), 'A=1\n');
    const r = await phase('preflight', { env: { RUNBOOK_PROJECT_DIR: dir } });
    expect(r.check('preflight.1.2.file').message).toMatch(/only \.env\.example exists/);
  });
});

describe('1.3 database health', () => {
  it('a stopped replica fails the replica check (could not run), the rest still pass', async () => {
    await withStopped('db_replica', async () => {
      const r = await phase('preflight');
      expect(r.check('preflight.1.3.replica').status).toBe('error');
      expect(r.check('preflight.1.3.replica').message).toMatch(/DB replica/);
      expect(r.check('preflight.1.3.primary').status).toBe('pass');
      expect(r.exitCode).not.toBe(0);
    });
  });

  it('a stopped Redis fails 1.3 Redis', async () => {
    await withStopped('redis', async () => {
      const r = await phase('preflight');
      expect(r.check('preflight.1.3.redis').status).toBe('error');
    });
  });

  it('a PgBouncer pool held above 70% by real connections fails, naming the pool', async () => {
    const clients: pg.Client[] = [];
    try {
      for (let i = 0; i < 15; i++) {
        const c = new pg.Client({ connectionString: readFileSync(envFile, 'utf8').match(/^DATABASE_URL=(.*)$/m)![1] });
        await c.connect();
        await c.query('BEGIN');
        await c.query('SELECT 1');
        clients.push(c);
      }
      const r = await phase('preflight');
      const c = r.check('preflight.1.3.pgbouncer');
      expect(c.status).toBe('fail');
      expect(c.measured).toMatchObject({ usage_pct: 75, cl_waiting: 0 });
      expect(c.message).toMatch(/pool "catalog\/buywhere" usage is 75%, expected < 70%/);
      expect(c.message).toMatch(/action: +HOLD — page Bolt/);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('when the stack is not running, 1.3 is skipped with the reason, never passed', async () => {
    const r = await phase('preflight', { env: { RUNBOOK_COMPOSE_PROJECT: 'no-such-project' } });
    for (const id of [
      'preflight.1.3.primary',
      'preflight.1.3.replica',
      'preflight.1.3.pgbouncer',
      'preflight.1.3.redis',
    ]) {
      expect(r.check(id)).toMatchObject({ status: 'skipped', message: expect.stringMatching(/not running/) });
    }
    expect(r.junit).toMatch(/<skipped\/>/);
  });
});

describe('1.4 disk and 1.5 backup', () => {
  it('a disk threshold crossed on a small real filesystem fails with the clean-up commands', async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'rb-disk-'));
    const m = await run(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
    expect(m.exitCode, m.output).toBe(0);
    try {
      writeFileSync(join(mnt, 'fill'), Buffer.alloc(3.6 * 1024 * 1024));
      const r = await phase('preflight', { env: { RUNBOOK_DISK_PATH: mnt } });
      const c = r.check('preflight.1.4');
      expect(c.status).toBe('fail');
      expect((c.measured as { used_pct: number }).used_pct).toBeGreaterThanOrEqual(85);
      expect(c.action).toMatch(/docker system prune -f --volumes=false/);
    } finally {
      await run(['umount', mnt]);
    }
  });

  it('a backup older than 24 h fails: "Do not proceed without a backup"; RUNBOOK_RUN_BACKUP=1 runs one and passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-backups-'));
    writeFileSync(join(dir, 'catalog-old.dump'), 'PGDMP');
    const old = new Date(Date.now() - 25 * 3_600_000);
    utimesSync(join(dir, 'catalog-old.dump'), old, old);
    mkdirSync(join(dir, 'sub'));
    let r = await phase('preflight', { env: { RUNBOOK_BACKUPS_DIR: dir } });
    expect(r.check('preflight.1.5')).toMatchObject({
      status: 'fail',
      action: expect.stringMatching(/Do not proceed without a backup/),
    });
    r = await phase('preflight', { env: { RUNBOOK_RUN_BACKUP: '1' } });
    expect(r.check('preflight.1.5').status).toBe('pass');
  });
});

describe('1.6 migrations, on the real database', () => {
  const sql = async (text: string) => {
    const c = new pg.Client({ connectionString: t.databaseUrl.reveal() });
    await c.connect();
    try {
      return (await c.query(text)).rows as Array<Record<string, unknown>>;
    } finally {
      await c.end();
    }
  };

  it('a running database that does not answer is a could-not-check, never a pass', async () => {
    const u = new URL(t.databaseUrl.reveal());
    u.password = 'not-the-password';
    const r = await phase('preflight', { env: { RUNBOOK_DB_URL: u.toString() } });
    expect(r.check('preflight.1.6')).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/alembic_version/),
    });
    expect(r.exitCode).not.toBe(0);
  });

  it('a database ahead of the checkout fails; a database never migrated passes as such', async () => {
    const [{ version_num: was }] = (await sql('SELECT version_num FROM alembic_version')) as [{ version_num: string }];
    try {
      await sql("UPDATE alembic_version SET version_num = '0009_from_another_branch'");
      let r = await phase('preflight');
      expect(r.check('preflight.1.6')).toMatchObject({
        status: 'fail',
        message: expect.stringMatching(/0009_from_another_branch.*not one revision this checkout knows/),
      });
      await sql(`UPDATE alembic_version SET version_num = '${was}'`);
      await sql('ALTER TABLE alembic_version RENAME TO alembic_version_aside');
      r = await phase('preflight');
      expect(r.check('preflight.1.6')).toMatchObject({ status: 'pass', measured: { table: false, current: null } });
    } finally {
      await sql('ALTER TABLE IF EXISTS alembic_version_aside RENAME TO alembic_version');
      await sql(`UPDATE alembic_version SET version_num = '${was}'`);
    }
    expect(await sql('SELECT version_num FROM alembic_version')).toEqual([{ version_num: was }]);
  });
});
