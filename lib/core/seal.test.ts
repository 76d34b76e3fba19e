import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureSealKey, readSealKey, sealProblem, sealed, type SealKey } from './seal';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'seal-')), 'conf', 'evidence.key');
const key = (file = fresh()) => {
  const k = ensureSealKey(file);
  if (!k.ok) throw new Error(k.problem);
  return k;
};
/** Through the file's text and back, as the gate reads it. */
const roundTrip = (body: object, k: SealKey) =>
  JSON.parse(JSON.stringify(sealed(body, k), null, 2)) as Record<string, unknown>;
const evidence = () => ({
  phase: 'smoke',
  finishedAt: '2026-11-30T06:00:00.000Z',
  checks: [{ id: 'smoke.9', status: 'pass', measured: { samples_ms: [3, 4.5, -0, 12], note: 'ünïcode' } }],
});

describe('the evidence key', () => {
  it('is created once, 64 hex digits, mode 600 in a directory of mode 700, and never replaced', () => {
    const file = fresh();
    const k = key(file);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
    expect(key(file).key.equals(k.key)).toBe(true);
  });

  it('missing, readable by others, not hex, or not a regular file: a problem, never a key', () => {
    const file = fresh();
    expect(readSealKey(file)).toEqual({
      ok: false,
      missing: true,
      problem: expect.stringContaining('no evidence key at'),
    });
    key(file);
    chmodSync(file, 0o640);
    expect(readSealKey(file)).toEqual({ ok: false, problem: expect.stringMatching(/read by others \(mode 640\)/) });
    expect(ensureSealKey(file).ok).toBe(false);
    chmodSync(file, 0o600);
    writeFileSync(file, 'not a key\n');
    expect(readSealKey(file)).toEqual({ ok: false, problem: expect.stringContaining('not 64 hex digits') });
    const dir = fresh();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    expect(readSealKey(dir)).toEqual({ ok: false, problem: expect.stringContaining('not a regular file') });
    const link = `${fresh()}.link`;
    mkdirSync(join(link, '..'), { recursive: true });
    symlinkSync(key().file, link);
    expect(readSealKey(link).ok).toBe(false);
  });

  it('in a directory others can write (who could swap in a key of their own): a problem, never a key', () => {
    const file = fresh();
    key(file);
    chmodSync(join(file, '..'), 0o770);
    expect(readSealKey(file)).toEqual({
      ok: false,
      problem: expect.stringMatching(/can be written by others \(mode 770\)/),
    });
    chmodSync(join(file, '..'), 0o755);
    expect(readSealKey(file).ok).toBe(true);
  });

  it('cannot be created where no directory can be: a problem', () => {
    const blocker = join(mkdtempSync(join(tmpdir(), 'seal-')), 'file');
    writeFileSync(blocker, '');
    expect(ensureSealKey(join(blocker, 'evidence.key'))).toEqual({
      ok: false,
      problem: expect.stringContaining('cannot be created'),
    });
  });
});

describe('sealed evidence', () => {
  const k = key();

  it('verifies after the round trip through its file', () => {
    expect(sealProblem(roundTrip(evidence(), k), k)).toBeUndefined();
    // Sealing again replaces the seal rather than sealing it.
    expect(sealProblem(roundTrip(sealed(evidence(), k), k), k)).toBeUndefined();
  });

  it('any edit breaks it: a measured value, a status, an added or a removed field', () => {
    const edits: Array<(e: any) => void> = [
      (e) => (e.checks[0].measured.samples_ms[3] = 11),
      (e) => (e.checks[0].status = 'fail'),
      (e) => (e.partial = []),
      (e) => delete e.finishedAt,
      (e) => (e.checks[0].measured.note = 'unicode'),
    ];
    for (const edit of edits) {
      const e = roundTrip(evidence(), k);
      edit(e);
      expect(sealProblem(e, k)).toMatch(/does not match the key at .*changed after its run wrote it/);
    }
  });

  it('another key, no seal, a malformed or truncated seal, or no key to check with: each a problem', () => {
    const e = roundTrip(evidence(), k);
    expect(sealProblem(e, key())).toMatch(/does not match/);
    expect(sealProblem({ ...e, seal: undefined }, k)).toMatch(/carries no seal/);
    expect(sealProblem({ ...e, seal: 'sha1:00' }, k)).toMatch(/malformed/);
    expect(sealProblem({ ...e, seal: (e.seal as string).slice(0, 20) }, k)).toMatch(/does not match/);
    expect(sealProblem({ ...e, seal: 7 }, k)).toMatch(/malformed/);
    expect(sealProblem(e, { ok: false, problem: 'no evidence key at /x' })).toBe(
      'it cannot be verified: no evidence key at /x',
    );
  });

  it('a run without a key says why in place of a seal, and that reason is the problem', () => {
    const e = roundTrip(evidence(), { ok: false, problem: 'the evidence key /k cannot be created (EACCES)' });
    expect(e.seal).toBeUndefined();
    expect(sealProblem(e, k)).toBe('its run could not seal it: the evidence key /k cannot be created (EACCES)');
    expect(sealProblem({ ...roundTrip(evidence(), k), unsealed: 'x' }, k)).toMatch(/does not match/);
  });
});
