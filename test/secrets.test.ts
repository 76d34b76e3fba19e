// No staging secret may appear in any artefact, log or evidence file of a run, nor in any process's argv.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../lib/config';
import { parseEnvFile } from '../lib/envfile';
import { setFaults, resetFaults, t } from './support/harness';
import { launch } from '../scripts/launch';

const env = parseEnvFile(readFileSync(join(t.projectDir, '.env'), 'utf8'), '.env').values;
const secrets = ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'JWT_SECRET_KEY', 'BUYWHERE_API_KEY', 'DATABASE_URL', 'REDIS_URL'].map((k) => [k, env.get(k)!] as const);

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) out.push(...filesUnder(p));
    else if (s.size < 50 * 1024 * 1024) out.push(p);
  }
  return out;
}

function argvOfEveryProcess(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

describe('secrets stay out of reports, logs and argv', () => {
  it('a full launch (with a failing check) leaves no secret in reports/, and no process ever shows one in argv', async () => {
    const seen: string[] = [];
    const sampler = setInterval(() => seen.push(...argvOfEveryProcess()), 100);
    try {
      await setFaults({ untaggedRedirect: true });
      const r = await launch({ echo: false, env: { RUNBOOK_REPORTS_DIR: join(repoRoot, 'reports') } });
      expect(r.decision).toBe('HOLD');
    } finally {
      clearInterval(sampler);
      await resetFaults();
    }
    const files = filesUnder(join(repoRoot, 'reports'));
    expect(files.some((f) => f.endsWith('gonogo.html'))).toBe(true);
    expect(files.some((f) => f.includes('/logs/'))).toBe(true);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const [name, value] of secrets) expect(text.includes(value), `${name} found in ${f}`).toBe(false);
    }
    expect(seen.length).toBeGreaterThan(100);
    for (const [name, value] of secrets) {
      const leak = seen.find((a) => a.includes(value) || a.includes(encodeURIComponent(value)));
      expect(leak, `${name} in argv`).toBeUndefined();
    }
  }, 600_000);
});
