// Preflight against the real staging stack: passes when healthy, and each item fails with its message
// when its fault is injected on the real component.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../lib/core/exec';
import { commitToProject, phase, t, withStopped } from './support/harness';
import { readState } from '../lib/operations/rollback-state';
import { imageInfo, tagImage } from '../lib/probes/docker';
import {
  backupsFolder,
  half,
  placeBackup,
  plainBackup,
  newestStagingBackup,
  uncompressedBackup,
} from './support/backups';
import { engine } from '../lib/probes/engine';
import { oneOffLabel } from '../lib/probes/oneoff';

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
      'preflight.1.5.drill',
      'preflight.1.6',
    ]);
    // Every check passes; the restore drill runs only when asked.
    expect(r.evidence.checks.filter((c) => c.status !== 'pass').map((c) => [c.id, c.status])).toEqual([
      ['preflight.1.5.drill', 'skipped'],
    ]);
    expect(r.check('preflight.1.5').measured).toMatchObject({ complete: true, tables_missing: [] });
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
      expect(r.evidence.outcome).toMatch(/configuration error: .*\.env line \d+\n\s+expected: KEY=VALUE/);
      expect(r.check('preflight.config').status).toBe('error');
      expect(r.output).not.toContain(/^POSTGRES_PASSWORD=(.*)$/m.exec(original)![1]!);
    } finally {
      writeFileSync(envFile, original, { mode: 0o600 });
    }
  });

  it("a secret left at the example's value fails, naming the key, also when the example is only in the checkout's HEAD", async () => {
    const clone = mkdtempSync(join(tmpdir(), 'rb-envex-'));
    const dir = join(clone, 'app');
    await run(['git', 'clone', '-q', join(t.projectDir + '.upstream.git'), dir]);
    const example = readFileSync(join(dir, '.env.example'), 'utf8');
    const placeholder = /^POSTGRES_PASSWORD=(.*)$/m.exec(example)![1]!;
    writeFileSync(join(dir, '.env'), original.replace(/^POSTGRES_PASSWORD=.*$/m, `POSTGRES_PASSWORD=${placeholder}`), {
      mode: 0o600,
    });
    rmSync(join(dir, '.env.example'));
    const r = await phase('preflight', { env: { RUNBOOK_PROJECT_DIR: dir } });
    expect(r.check('preflight.1.2.file')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/POSTGRES_PASSWORD has the value the checkout's HEAD:\.env\.example gives/),
    });
    // The real secrets, beside the same example, pass.
    writeFileSync(join(dir, '.env'), original, { mode: 0o600 });
    expect((await phase('preflight', { env: { RUNBOOK_PROJECT_DIR: dir } })).check('preflight.1.2.file').status).toBe(
      'pass',
    );
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
    const dir = backupsFolder();
    placeBackup(await newestStagingBackup(), dir, 'catalog-old.dump', 25);
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

describe('1.4 cleanup on request', () => {
  it('RUNBOOK_RUN_CLEANUP=1 on a full-looking disk: cleaned, 1.4 passes on the second measure, the rollback target kept', async () => {
    if (!readState(t.projectDir) || readState(t.projectDir)!.PREV_API_IMAGE === 'none') {
      await commitToProject({ 'api/build.env': `# build ${Date.now()}\n` }, 'A build to have a previous one');
      expect((await phase('deploy')).exitCode).toBe(0);
    }
    const prev = readState(t.projectDir)!.PREV_API_IMAGE;
    const running = (await imageInfo(`${t.apiImage}:latest`))!.id;
    const tags = (await imageInfo(prev))!.tags;
    // The previous build loses every tag (each moved to the running image): a prune would take it.
    for (const tag of tags) {
      const [repo, name] = tag.split(':') as [string, string];
      await tagImage(running, repo, name);
    }
    expect((await imageInfo(prev))!.tags.filter((x) => !x.endsWith(':<none>'))).toEqual([]);
    const logs = join(t.projectDir, 'logs');
    mkdirSync(logs, { recursive: true });
    const m = await run(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', logs]);
    expect(m.exitCode, m.output).toBe(0);
    try {
      writeFileSync(join(logs, 'api-old.log'), Buffer.alloc(3.6 * 1024 * 1024));
      const old = new Date(Date.now() - 8 * 86_400_000);
      utimesSync(join(logs, 'api-old.log'), old, old);
      writeFileSync(join(logs, 'api-today.log'), 'kept');
      const asked = await phase('preflight', { env: { RUNBOOK_DISK_PATH: logs } });
      expect(asked.check('preflight.1.4').status, 'without the setting, no cleanup: 1.4 fails').toBe('fail');
      const r = await phase('preflight', { env: { RUNBOOK_DISK_PATH: logs, RUNBOOK_RUN_CLEANUP: '1' } });
      const c = r.check('preflight.1.4');
      expect(c.status, c.message).toBe('pass');
      const rec = c.measured as {
        used_pct: number;
        cleanup: { before_pct: number; logs_removed: string[]; rollback_images_kept: string[] };
      };
      expect(rec.cleanup.before_pct).toBeGreaterThanOrEqual(85);
      expect(rec.used_pct).toBeLessThan(85);
      expect(rec.cleanup.logs_removed).toEqual([join(logs, 'api-old.log')]);
      expect(readFileSync(join(logs, 'api-today.log'), 'utf8')).toBe('kept');
      expect(rec.cleanup.rollback_images_kept).toContain(prev);
      expect(await imageInfo(prev), 'the rollback target still exists').toBeDefined();
      expect(r.output).toMatch(/1\.4 cleanup: \d+\.\d% → \d+\.\d% used; freed/);
    } finally {
      await run(['umount', logs]);
      for (const tag of tags) {
        const [repo, name] = tag.split(':') as [string, string];
        await tagImage(prev, repo, name);
      }
      await engine(`/images/${t.apiImage}:keep-${prev.replace(/^sha256:/, '').slice(0, 12)}`, {
        method: 'DELETE',
      }).catch(() => {});
    }
  });
});

describe('1.5 reads every backup to its end', () => {
  it('a newer backup cut short beside an older complete one: 1.5 passes on the older one, naming the newer as a warning', async () => {
    const real = await newestStagingBackup();
    const dir = backupsFolder();
    placeBackup(real, dir, 'catalog-1-older.dump', 3);
    placeBackup(real, dir, 'catalog-2-newer.dump', 1, half(real));
    const r = await phase('preflight', { env: { RUNBOOK_BACKUPS_DIR: dir } });
    const c = r.check('preflight.1.5');
    expect(c.status, c.message).toBe('pass');
    expect(c.measured).toMatchObject({
      file: 'catalog-1-older.dump',
      complete: true,
      tables_missing: [],
      newer_incomplete: [{ file: 'catalog-2-newer.dump', why: expect.stringMatching(/does not read to the end/) }],
    });
    expect(r.output).toMatch(/1\.5 WARNING: newer backup catalog-2-newer\.dump is not complete/);
    expect(r.output).toMatch(/1\.5: read 2 backup\(s\) in full, [\d.]+ MB in [\d.]+ s \(\d+ MB\/s\)/);
  });

  it('a complete backup less than half the size of the complete one before it fails, naming both', async () => {
    const dir = backupsFolder();
    await uncompressedBackup(dir, 'catalog-1-plain.dump');
    utimesSync(
      join(dir, 'catalog-1-plain.dump'),
      new Date(Date.now() - 3 * 3_600_000),
      new Date(Date.now() - 3 * 3_600_000),
    );
    placeBackup(await newestStagingBackup(), dir, 'catalog-2.dump', 1);
    const r = await phase('preflight', { env: { RUNBOOK_BACKUPS_DIR: dir } });
    expect(r.check('preflight.1.5')).toMatchObject({
      status: 'fail',
      measured: { file: 'catalog-2.dump', previous: { file: 'catalog-1-plain.dump' } },
      message: expect.stringMatching(
        /"catalog-2\.dump" is \d+ bytes, [\d.]+ % of the previous complete backup "catalog-1-plain\.dump", expected ≥ 0\.5 × the previous backup/,
      ),
    });
  });

  it('plain SQL and gzipped SQL: whole ones pass; cut short, they fail for the missing completion marker', async () => {
    const real = await newestStagingBackup();
    for (const [format, name, gzip] of [
      ['sql', 'db.sql', false],
      ['gzip', 'db.sql.gz', true],
    ] as const) {
      const dir = backupsFolder();
      const file = await plainBackup(real, dir, name, gzip);
      const env = {
        RUNBOOK_BACKUPS_DIR: dir,
        RUNBOOK_BACKUP_FORMAT: format,
        RUNBOOK_BACKUP_PATTERN: `*${name.slice(2)}`,
      };
      let r = await phase('preflight', { env });
      expect(r.check('preflight.1.5').status, r.check('preflight.1.5').message).toBe('pass');
      const cut = backupsFolder();
      placeBackup(file, cut, name, 1, half(file));
      r = await phase('preflight', { env: { ...env, RUNBOOK_BACKUPS_DIR: cut } });
      expect(r.check('preflight.1.5')).toMatchObject({
        status: 'fail',
        message: expect.stringMatching(gzip ? /does not read to the end/ : /cut short/),
      });
    }
  });

  it('RUNBOOK_RESTORE_DRILL=1 restores the chosen backup into a throwaway container and removes it', async () => {
    const r = await phase('preflight', { env: { RUNBOOK_RESTORE_DRILL: '1' } });
    const c = r.check('preflight.1.5.drill');
    expect(c.status, c.message).toBe('pass');
    expect(c.measured).toMatchObject({ exit_code: 0, products_restored: expect.any(Number) });
    const m = c.measured as { products_restored: number; products_live: number; restore_s: number };
    expect(m.products_restored).toBeGreaterThanOrEqual(m.products_live / 2);
    expect(m.restore_s).toBeGreaterThan(0);
    expect(r.output).toMatch(/1\.5 drill: catalog-.*\.dump restored in [\d.]+ s, \d+ products/);
    const left = await engine<unknown[]>('/containers/json', {
      query: { all: true, filters: { label: [`${oneOffLabel}=restore-drill`] } },
    });
    expect(left).toEqual([]);
    // Without the setting the drill is skipped with its reason, never a pass.
    expect((await phase('preflight')).check('preflight.1.5.drill')).toMatchObject({
      status: 'skipped',
      message: expect.stringMatching(/RUNBOOK_RESTORE_DRILL=1/),
    });
  });
});

describe('1.6 migrations, on the real database', () => {
  const sql = async (text: string) => {
    const c = new pg.Client({ connectionString: t.databaseUrl!.reveal() });
    await c.connect();
    try {
      return (await c.query(text)).rows as Array<Record<string, unknown>>;
    } finally {
      await c.end();
    }
  };

  it('a running database that does not answer is a could-not-check, never a pass', async () => {
    const u = new URL(t.databaseUrl!.reveal());
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
