// Vitest's threads pool, with each worker thread booted before Vitest asks for it. Booting one (Node's thread,
// then Vitest's worker runtime) takes about 0.1 s of a phase's start that nothing else waits on: the first boots
// while Vitest itself starts, and in a run of several phases (`npm run launch`, where each phase is a project
// and so gets a worker of its own) the later ones boot while the first phase runs, so that none takes the CPU from
// a later phase (smoke times latencies on it). A booted thread also loads the packages its phase's checks load on
// first use (undici, pg, execa...), off the path of the first check.
import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Worker } from 'node:worker_threads';
import { ThreadsPoolWorker, distDir, rootDir, type PoolOptions } from 'vitest/node';

export const warmPoolName = 'warm-threads';
export const poolStatsEnv = 'RUNBOOK_POOL_STATS';

/** What a worker thread is started with: a booted one serves only a request for exactly the same. */
export interface ThreadSpec {
  entrypoint: string;
  env: Record<string, string | undefined>;
  execArgv: string[];
}

/** The parts of Vitest's threads worker this pool reads and sets: what to start, and the thread it started. */
interface ThreadsInternals extends ThreadSpec {
  _thread?: Worker;
}

/**
 * What Vitest 4.1 starts a runbook phase's worker thread with: its threads entry; the environment it builds
 * (this process's, then its own flags, then Vite's mode variables); the flags it passes. Nothing here decides
 * anything: a spare booted with a spec that turns out different is dropped, and the worker boots as before.
 */
export function expectedSpec(): ThreadSpec {
  return {
    entrypoint: resolve(distDir, 'workers/threads.js'),
    env: {
      ...process.env,
      TEST: 'true',
      VITEST: 'true',
      NODE_ENV: process.env.NODE_ENV || 'test',
      VITEST_MODE: 'RUN',
      FORCE_TTY: isatty(1) ? 'true' : '',
      BASE_URL: '/',
      MODE: 'test',
      DEV: '1',
      PROD: '',
    },
    execArgv: [
      ...process.execArgv.filter((a) => /^--(cpu-prof|heap-prof|diagnostic-dir)/.test(a)),
      '--experimental-import-meta-resolve',
      '--require',
      resolve(rootDir, 'suppress-warnings.cjs'),
      '--conditions',
      'node',
      '--conditions',
      'development',
    ],
  };
}

export interface WarmPoolStats {
  /** Threads booted ahead. */
  booted: number;
  /** Workers that started on a thread booted ahead. */
  adopted: number;
  /** Booted threads dropped: the worker asked for a different spec, or the thread died before it was needed. */
  dropped: number;
}

/**
 * `--require` flags that load these packages (resolved from here) as a thread boots: the worker's later import of
 * one is then the module already loaded. One that does not resolve is left out, and is loaded when first used.
 */
export function preloadFlags(packages: readonly string[]): string[] {
  const resolve = createRequire(import.meta.url).resolve;
  return packages.flatMap((p) => {
    try {
      return ['--require', resolve(p)];
    } catch {
      return [];
    }
  });
}

/**
 * @param workers how many worker threads this run will start (one per phase): no more are booted, so a spare
 *   never takes the CPU from a run that has no use for it.
 * @param first the spec to boot the first one with, before Vitest asks; the later ones boot once a worker has
 *   answered, all of them, with that worker's spec.
 * @param preload the packages each worker in turn loads as its thread boots (a thread that fails to load them
 *   dies, and is dropped like any other). @default none
 */
export function warmThreads(workers: number, first?: ThreadSpec, preload: readonly (readonly string[])[] = []) {
  let left = workers;
  // Workers started so far: the threads booted ahead are for the ones after them, in order.
  let started = 0;
  const spares: Array<{ thread: Worker; spec: ThreadSpec }> = [];
  const stats: WarmPoolStats = { booted: 0, adopted: 0, dropped: 0 };
  const boot = (spec: ThreadSpec) => {
    if (left <= 0) return;
    left--;
    stats.booted++;
    let thread: Worker;
    try {
      thread = new Worker(spec.entrypoint, {
        env: spec.env,
        execArgv: [...spec.execArgv, ...preloadFlags(preload[started + spares.length] ?? [])],
        stdout: true,
        stderr: true,
      });
    } catch {
      // Node refuses the flags (a `--cpu-prof-interval 100` whose value it reads as a separate argument): no spare.
      // The worker Vitest then starts meets the same refusal, and says so, where a spare would only fail the
      // config's loading with no word of why.
      stats.dropped++;
      left++;
      return;
    }
    const s = { thread, spec };
    // Until a worker adopts it, a spare keeps no run alive, and its failure is only a spare less.
    thread.unref();
    const died = () => {
      const at = spares.indexOf(s);
      if (at < 0) return;
      // The spares after it each serve a worker one sooner than the one they were booted for: that worker finds
      // the next one's packages loaded, and loads its own when first used, as with no thread booted ahead.
      spares.splice(at, 1);
      stats.dropped++;
      left++;
    };
    thread.once('error', died).once('exit', died);
    spares.push(s);
  };
  class WarmThreadsWorker extends ThreadsPoolWorker {
    override readonly name = warmPoolName;
    override async start() {
      const self = this as unknown as ThreadsInternals;
      if (!self._thread) {
        started++;
        const s = spares.shift();
        if (!s) left--;
        else if (isDeepStrictEqual(s.spec, { entrypoint: self.entrypoint, env: self.env, execArgv: self.execArgv })) {
          s.thread.removeAllListeners('error').removeAllListeners('exit').ref();
          self._thread = s.thread;
          stats.adopted++;
        } else {
          stats.dropped++;
          void s.thread.terminate();
        }
      }
      await super.start();
      // The rest boot once this worker has answered (until then they would share the CPU with its start), all of
      // them at once: a thread booted later would share it with the phase then running.
      self._thread!.once('message', () => {
        for (let n = left; n > 0; n--) boot({ entrypoint: self.entrypoint, env: self.env, execArgv: self.execArgv });
      });
    }
  }
  if (first) boot(first);
  // Bench and the tests read whether the threads booted ahead were the ones Vitest asked for.
  if (process.env[poolStatsEnv] === '1')
    process.once('exit', () => process.stderr.write(`${poolStatsEnv} ${JSON.stringify(stats)}\n`));
  return {
    name: warmPoolName,
    stats,
    createPoolWorker: (options: PoolOptions) => new WarmThreadsWorker(options),
  };
}
