import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { PoolOptions } from 'vitest/node';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../core/exec';
import { waitUntil } from '../core/wait';
import { repoRoot } from './config';
import { poolStatsEnv, preloadFlags, warmThreads, type ThreadSpec } from './warm-pool';

// A stand-in for Vitest's thread entry: it answers every message with its environment's MARK, and the packages
// loaded before it (each stand-in package below adds its name to PRELOADED as it loads).
const dist = mkdtempSync(join(tmpdir(), 'warm-pool-'));
mkdirSync(join(dist, 'workers'));
writeFileSync(
  join(dist, 'workers', 'threads.js'),
  `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => parentPort.postMessage({ mark: process.env.MARK, preloaded: globalThis.PRELOADED ?? [], m }));
if (process.env.DIE_AT_BOOT) process.exit(3);`,
);
const entrypoint = join(dist, 'workers', 'threads.js');
const pkg = (name: string, body = `(globalThis.PRELOADED ??= []).push(${JSON.stringify(name)});`) => {
  const file = join(dist, `${name}.cjs`);
  writeFileSync(file, body);
  return file;
};
const spec = (mark: string, extra: Record<string, string> = {}): ThreadSpec => ({
  entrypoint,
  env: { MARK: mark, ...extra },
  execArgv: [],
});
const options = (s: ThreadSpec) =>
  ({
    distPath: dist,
    env: s.env,
    execArgv: s.execArgv,
    project: { vitest: { logger: { outputStream: new PassThrough(), errorStream: new PassThrough() } } },
  }) as unknown as PoolOptions;

type Answer = { mark: string; preloaded: string[] };
const ask = (w: { send(m: unknown): void; on(e: string, f: (a: Answer) => void): void }) =>
  new Promise<Answer>((resolve) => {
    w.on('message', resolve);
    w.send('hello');
  });

const started: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.stop()));
});
type Pool = ReturnType<typeof warmThreads>;
const startWorker = async (pool: Pool, s: ThreadSpec) => {
  const w = pool.createPoolWorker(options(s));
  started.push(w);
  await w.start();
  return w;
};
const threadDropped = (pool: Pool) =>
  waitUntil(async () => (pool.stats.dropped ? { ready: true, value: 0 } : { ready: false, last: 'alive' }), {
    what: 'the booted thread to die',
    timeoutMs: 10_000,
    intervalMs: 20,
  });

describe('worker threads booted ahead (warm-pool)', () => {
  it('a worker asking for the spec the first thread was booted with starts on that thread', async () => {
    const pool = warmThreads(1, spec('a'));
    const w = pool.createPoolWorker(options(spec('a')));
    started.push(w);
    await w.start();
    expect((await ask(w)).mark).toBe('a');
    expect(pool.stats).toEqual({ booted: 1, adopted: 1, dropped: 0 });
  });

  it('a different environment drops the booted thread: the worker boots its own, with its own environment', async () => {
    const pool = warmThreads(1, spec('a'));
    const w = pool.createPoolWorker(options(spec('b')));
    started.push(w);
    await w.start();
    expect((await ask(w)).mark).toBe('b');
    expect(pool.stats).toEqual({ booted: 1, adopted: 0, dropped: 1 });
  });

  it('a different entry or different flags drop it too', async () => {
    for (const other of [
      { ...spec('a'), execArgv: ['--no-warnings'] },
      { ...spec('a'), entrypoint: join(dist, 'other.js') },
    ]) {
      const pool = warmThreads(1, other);
      const w = pool.createPoolWorker(options(spec('a')));
      started.push(w);
      await w.start();
      expect(pool.stats.dropped, JSON.stringify(other)).toBe(1);
    }
  });

  it('a booted thread that died is dropped, not handed to a worker', async () => {
    const pool = warmThreads(2, spec('a', { DIE_AT_BOOT: '1' }));
    await threadDropped(pool);
    const w = await startWorker(pool, spec('a'));
    expect((await ask(w)).mark).toBe('a');
    // The dead one served no worker: the run still gets the one it said it would start after this one.
    expect(pool.stats).toEqual({ booted: 2, adopted: 0, dropped: 1 });
    const next = pool.createPoolWorker(options(spec('a')));
    started.push(next);
    await next.start();
    expect(pool.stats).toEqual({ booted: 2, adopted: 1, dropped: 1 });
  });

  it('the later threads boot once the first worker answers, with that worker spec, and no more than the run will use', async () => {
    const pool = warmThreads(3);
    const workers = [1, 2, 3, 4].map(() => pool.createPoolWorker(options(spec('b'))));
    started.push(...workers);
    for (const w of workers) {
      await w.start();
      expect((await ask(w)).mark).toBe('b');
    }
    // The first starts its own; the second and third take threads booted once it answered; the fourth is beyond
    // what the run said it would start.
    expect(pool.stats).toEqual({ booted: 2, adopted: 2, dropped: 0 });
  });

  it('every later thread boots while the first worker runs, none beside a later one, each with its own packages', async () => {
    const pool = warmThreads(3, spec('a'), [[pkg('p1')], [pkg('p2')], [pkg('p3')]]);
    expect((await ask(await startWorker(pool, spec('a')))).preloaded).toEqual(['p1']);
    // Both later threads were booted on the first worker's answer, before the second worker was asked for.
    expect(pool.stats).toEqual({ booted: 3, adopted: 1, dropped: 0 });
    expect((await ask(await startWorker(pool, spec('a')))).preloaded).toEqual(['p2']);
    expect((await ask(await startWorker(pool, spec('a')))).preloaded).toEqual(['p3']);
    expect(pool.stats).toEqual({ booted: 3, adopted: 3, dropped: 0 });
  });

  it('a later thread that died leaves the one after it to the next worker, and one more boots', async () => {
    const pool = warmThreads(3, spec('a'), [[], [pkg('dies', 'process.exit(3);')], [pkg('last')]]);
    await ask(await startWorker(pool, spec('a')));
    await threadDropped(pool);
    expect(pool.stats).toEqual({ booted: 3, adopted: 1, dropped: 1 });
    expect((await ask(await startWorker(pool, spec('a')))).preloaded).toEqual(['last']);
    // Its answer boots the thread for the third worker in place of the one that died.
    expect((await ask(await startWorker(pool, spec('a')))).mark).toBe('a');
    expect(pool.stats).toEqual({ booted: 4, adopted: 3, dropped: 1 });
  });

  it('each thread booted ahead has loaded the packages of the worker it is for, and only those', async () => {
    const pool = warmThreads(2, spec('a'), [[pkg('first-a'), pkg('first-b')], [pkg('second')]]);
    expect((await ask(await startWorker(pool, spec('a')))).preloaded).toEqual(['first-a', 'first-b']);
    expect((await ask(await startWorker(pool, spec('a')))).preloaded).toEqual(['second']);
    expect(pool.stats).toEqual({ booted: 2, adopted: 2, dropped: 0 });
  });

  it('a worker with no thread booted ahead loads nothing ahead; the next thread preloads for the worker after it', async () => {
    const pool = warmThreads(2, undefined, [[pkg('never')], [pkg('next')]]);
    expect((await ask(await startWorker(pool, spec('a')))).preloaded).toEqual([]);
    expect((await ask(await startWorker(pool, spec('a')))).preloaded).toEqual(['next']);
  });

  it('a package that fails to load drops the thread: the worker boots its own, and its checks load it as before', async () => {
    const pool = warmThreads(1, spec('a'), [[pkg('broken', "throw new Error('no such build');")]]);
    await threadDropped(pool);
    const w = await startWorker(pool, spec('a'));
    expect(await ask(w)).toMatchObject({ mark: 'a', preloaded: [] });
    expect(pool.stats).toEqual({ booted: 1, adopted: 0, dropped: 1 });
  });

  it('flags Node refuses for a thread boot none ahead: the run starts, and its worker meets the refusal itself', async () => {
    // `node --cpu-prof-interval 100 …`: the value is its own argument, and Vitest passes the flag on without it.
    const refused = { ...spec('a'), execArgv: ['--cpu-prof-interval'] };
    const pool = warmThreads(2, refused);
    expect(pool.stats).toEqual({ booted: 1, adopted: 0, dropped: 1 });
    await expect(pool.createPoolWorker(options(refused)).start()).rejects.toThrow(/cpu-prof-interval/);
    const w = await startWorker(pool, spec('b'));
    expect((await ask(w)).mark).toBe('b');
  });

  it('a package that does not resolve is left out of the flags', () => {
    const file = pkg('resolvable');
    expect(preloadFlags(['no-such-package-anywhere', file, 'undici/lib/api/api-request.js'])).toEqual([
      '--require',
      file,
      '--require',
      join(repoRoot, 'node_modules', 'undici', 'lib', 'api', 'api-request.js'),
    ]);
  });

  it('a thread booted and never used does not keep the process alive', { timeout: 30_000 }, async () => {
    const script = join(dist, 'unused.mts');
    writeFileSync(
      script,
      `import { warmThreads } from ${JSON.stringify(join(repoRoot, 'lib/harness/warm-pool.ts'))};
warmThreads(1, { entrypoint: ${JSON.stringify(entrypoint)}, env: {}, execArgv: [] });`,
    );
    const r = await run([join(repoRoot, 'node_modules', '.bin', 'tsx'), script], {
      cwd: repoRoot,
      timeoutMs: 20_000,
      env: { [poolStatsEnv]: '1' },
    });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain(`${poolStatsEnv} {"booted":1,"adopted":0,"dropped":0}`);
  });
});

describe(
  'in a real run, Vitest asks for exactly the spec the first thread was booted with',
  { timeout: 60_000 },
  () => {
    it('`vitest run --project gonogo` starts its one worker on the thread booted ahead', async () => {
      const reports = mkdtempSync(join(tmpdir(), 'warm-pool-run-'));
      const r = await run([join(repoRoot, 'node_modules', '.bin', 'vitest'), 'run', '--project', 'gonogo'], {
        cwd: repoRoot,
        timeoutMs: 60_000,
        env: { FORCE_COLOR: '0', RUNBOOK_REPORTS_DIR: reports, [poolStatsEnv]: '1' },
      });
      expect(r.output).toContain(`${poolStatsEnv} {"booted":1,"adopted":1,"dropped":0}`);
    });
  },
);
