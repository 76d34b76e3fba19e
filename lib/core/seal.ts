// Evidence carries an HMAC under a key kept outside the reports, so the gate sees a record edited after its run
// wrote it, or evidence written on another host. It shows that something changed, not who changed it: whoever can
// read the key can seal.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type SealKey = { ok: true; key: Buffer; file: string } | { ok: false; problem: string; missing?: boolean };

const scheme = 'hmac-sha256';
const keyText = /^[0-9a-f]{64}$/;

/** The key in `file`, or why it cannot be used. Never creates one: the gate only verifies. */
export function readSealKey(file: string): SealKey {
  let st;
  try {
    st = lstatSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? {
          ok: false,
          missing: true,
          problem: `no evidence key at ${file}: every phase creates it on its first run on this host`,
        }
      : { ok: false, problem: `the evidence key ${file} cannot be read (${code})` };
  }
  if (!st.isFile()) return { ok: false, problem: `the evidence key ${file} is not a regular file` };
  if ((st.mode & 0o077) !== 0)
    return {
      ok: false,
      problem: `the evidence key ${file} can be read by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it, then rerun the phases`,
    };
  // Whoever can write its directory can put a key of their own in its place.
  const dirMode = lstatSync(dirname(file)).mode;
  if ((dirMode & 0o022) !== 0)
    return {
      ok: false,
      problem: `the directory of the evidence key ${dirname(file)} can be written by others (mode ${(dirMode & 0o777).toString(8)}): chmod 700 it, then rerun the phases`,
    };
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    return { ok: false, problem: `the evidence key ${file} cannot be read (${(err as NodeJS.ErrnoException).code})` };
  }
  if (!keyText.test(text)) return { ok: false, problem: `the evidence key ${file} is not 64 hex digits` };
  return { ok: true, key: Buffer.from(text, 'hex'), file };
}

/**
 * The key in `file`, created (mode 600, in a directory of mode 700) when there is none. Two runs creating it at
 * once agree on one: each links its own into place, and the one that loses reads the winner's.
 */
export function ensureSealKey(file: string): SealKey {
  const found = readSealKey(file);
  if (found.ok || !found.missing) return found;
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  } catch (err) {
    return { ok: false, problem: `the evidence key ${file} cannot be created (${(err as Error).message})` };
  } finally {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing was written where no directory could be made.
    }
  }
  return readSealKey(file);
}

const digest = (body: object, key: Buffer) =>
  createHmac('sha256', key)
    .update(JSON.stringify({ ...body, seal: undefined }))
    .digest('hex');

/** The record with its seal; when there is no key, with why it is not sealed instead, which the gate reports. */
export function sealed<T extends object>(body: T, key: SealKey): T & { seal?: string; unsealed?: string } {
  const { seal: _s, unsealed: _u, ...rest } = body as T & { seal?: unknown; unsealed?: unknown };
  return key.ok
    ? ({ ...rest, seal: `${scheme}:${digest(rest, key.key)}` } as T & { seal: string })
    : ({ ...rest, unsealed: key.problem } as T & { unsealed: string });
}

/** Why a parsed record's seal does not show it is as its run wrote it under this key; undefined when it does. */
export function sealProblem(record: Record<string, unknown>, key: SealKey): string | undefined {
  if (!key.ok) return `it cannot be verified: ${key.problem}`;
  const { seal } = record;
  if (seal === undefined)
    return typeof record.unsealed === 'string'
      ? `its run could not seal it: ${record.unsealed}`
      : 'it carries no seal (written by hand, or by another tool)';
  if (typeof seal !== 'string' || !seal.startsWith(`${scheme}:`)) return 'its seal is malformed';
  const given = Buffer.from(seal.slice(scheme.length + 1), 'hex');
  const expected = Buffer.from(digest(record, key.key), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return `its seal does not match the key at ${key.file}: it was changed after its run wrote it, or written on another host`;
  return undefined;
}
