// No staging secret may appear in any artefact, log, evidence file or console line of a run, compressed or
// not, nor in any process's argv: with an API that echoes the presented key back and a credentialed
// Prometheus URL in the settings.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../lib/harness/config';
import { parseEnvFile } from '../lib/core/env-syntax';
import { setFaults, resetFaults, t } from './support/harness';
import { launch } from '../scripts/launch';

const env = parseEnvFile(readFileSync(join(t.projectDir, '.env'), 'utf8'), '.env').values;
const prometheusPassword = 'pr0m-s3cret-pw';
const secrets = [
  ...['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'JWT_SECRET_KEY', 'BUYWHERE_API_KEY', 'DATABASE_URL', 'REDIS_URL'].map(
    (k) => [k, env.get(k)!] as const,
  ),
  ['password in RUNBOOK_PROMETHEUS_URL', prometheusPassword] as const,
];

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

/** A file's text; a gzip file (the Vitest HTML report's data) is read decompressed. */
function textOf(file: string): string {
  const raw = readFileSync(file);
  return raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
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

describe('secrets stay out of every sink', () => {
  it('a launch against an API echoing the key, with a credentialed Prometheus URL, leaves no secret anywhere', async () => {
    const seen: string[] = [];
    const printed: string[] = [];
    const sampler = setInterval(() => seen.push(...argvOfEveryProcess()), 100);
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string | Buffer) => (
      printed.push(String(chunk)),
      true
    )) as typeof process.stdout.write;
    let decision: string;
    try {
      await setFaults({ echoKey: true });
      const url = new URL(t.prometheusUrl!);
      [url.username, url.password] = ['watch', prometheusPassword];
      const r = await launch({
        echo: true,
        env: { RUNBOOK_REPORTS_DIR: join(repoRoot, 'reports'), RUNBOOK_PROMETHEUS_URL: url.toString() },
      });
      decision = r.decision;
    } finally {
      process.stdout.write = write;
      clearInterval(sampler);
      await resetFaults();
    }
    expect(decision).toBe('HOLD');
    const console = printed.join('');
    expect(console).toMatch(/RUNBOOK_PROMETHEUS_URL=http:\/\/watch:redacted@/);
    expect(console).toMatch(/smoke.8|Smoke 8/);
    expect(console).toMatch(/key \[redacted\] is not allowed here/);
    const smoke = JSON.parse(readFileSync(join(repoRoot, 'reports', 'evidence', 'smoke.json'), 'utf8')) as {
      checks: Array<{ id: string; measured: { error?: string } }>;
    };
    expect(smoke.checks.find((c) => c.id === 'smoke.8')?.measured.error).toBe('key [redacted] is not allowed here');

    const files = filesUnder(join(repoRoot, 'reports'));
    expect(files.some((f) => f.endsWith('gonogo.html'))).toBe(true);
    expect(files.some((f) => f.includes('/logs/'))).toBe(true);
    expect(files.some((f) => f.endsWith('.gz'))).toBe(true);
    for (const f of files) {
      const text = textOf(f);
      for (const [name, value] of secrets) expect(text.includes(value), `${name} found in ${f}`).toBe(false);
    }
    for (const [name, value] of secrets) expect(console.includes(value), `${name} printed`).toBe(false);
    expect(seen.length).toBeGreaterThan(100);
    for (const [name, value] of secrets) {
      const leak = seen.find((a) => a.includes(value) || a.includes(encodeURIComponent(value)));
      expect(leak, `${name} in argv`).toBeUndefined();
    }
  }, 600_000);
});
