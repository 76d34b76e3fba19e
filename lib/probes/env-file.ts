import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { run } from '../core/exec.js';
import { ConfigError, CouldNotCheck } from '../core/errors.js';
import { parseEnvFile } from '../core/env-syntax.js';

/** The seven keys runbook 1.2 greps for. */
export const requiredEnvKeys = [
  'DATABASE_URL',
  'REDIS_URL',
  'JWT_SECRET_KEY',
  'POSTGRES_PASSWORD',
  'AFFILIATE_TAG',
  'USD_DEFAULT',
  'US_REGION',
] as const;
/** Keys whose values are not secret and may be shown. */
const showable = new Set(['AFFILIATE_TAG', 'USD_DEFAULT', 'US_REGION']);

export interface EnvInspection {
  path: string;
  bytes: number;
  mode: number;
  /** Keys present with a non-empty value. */
  set: string[];
  /** Required keys missing or empty. */
  missing: string[];
  /** Values of the non-secret keys only. */
  visible: Record<string, string>;
  /** A parse error, described without echoing the line's value. */
  malformed?: string;
  /** Why this .env is, in truth, the example; null when it is not. Names keys, never values. */
  isExample: string | null;
}

/** Keys whose values are secrets: a value equal to the example's is the example's placeholder, not a secret. */
export const secretEnvKeys = requiredEnvKeys.filter((k) => !showable.has(k));

export async function inspectEnv(
  projectDir: string,
): Promise<EnvInspection | { absent: true; exampleExists: boolean }> {
  const path = join(projectDir, '.env');
  const s = await stat(path).catch(() => undefined);
  if (!s) {
    const example = await stat(join(projectDir, '.env.example')).catch(() => undefined);
    return { absent: true, exampleExists: !!example };
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CouldNotCheck(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const real = await realpath(path).catch(() => path);
  const base = { path, bytes: s.size, mode: s.mode & 0o777, isExample: null as string | null };
  const example = await stat(join(projectDir, '.env.example')).catch(() => undefined);
  if (basename(real) === '.env.example') base.isExample = `.env is a link to ${real}`;
  else if (example && example.dev === s.dev && example.ino === s.ino)
    base.isExample = '.env is a hard link to .env.example';
  let values: Map<string, string>;
  try {
    values = parseEnvFile(text, '.env').values;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ...base, set: [], missing: [...requiredEnvKeys], visible: {}, malformed: `${err.setting}: ${err.found}` };
  }
  const set = [...values].filter(([, v]) => v.trim() !== '').map(([k]) => k);
  base.isExample ??= await sameAsExample(projectDir, values);
  return {
    ...base,
    set,
    missing: requiredEnvKeys.filter((k) => !set.includes(k)),
    visible: Object.fromEntries([...values].filter(([k]) => showable.has(k))),
  };
}

/**
 * The secret keys whose value is the one `.env.example` gives them, on disk or in the checkout's HEAD (an example
 * deleted from disk is still the example). An empty value is 1.2's "missing", not this.
 */
async function sameAsExample(projectDir: string, values: Map<string, string>): Promise<string | null> {
  const examples: Array<[where: string, text: string]> = [];
  const onDisk = await readFile(join(projectDir, '.env.example'), 'utf8').catch(() => undefined);
  if (onDisk !== undefined) examples.push(['.env.example', onDisk]);
  const head = await run(['git', 'show', 'HEAD:.env.example'], { cwd: projectDir, timeoutMs: 10_000 }).catch(
    () => undefined,
  );
  if (head?.exitCode === 0) examples.push(["the checkout's HEAD:.env.example", head.output]);
  for (const [where, text] of examples) {
    let example: Map<string, string>;
    try {
      example = parseEnvFile(text, where).values;
    } catch {
      continue;
    }
    const same = secretEnvKeys.filter((k) => {
      const v = values.get(k)?.trim();
      return !!v && v === example.get(k)?.trim();
    });
    if (same.length) return `${same.join(', ')} ${same.length > 1 ? 'have' : 'has'} the value ${where} gives`;
  }
  return null;
}
