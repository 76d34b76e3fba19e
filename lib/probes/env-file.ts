import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
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
}

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
  const base = { path, bytes: s.size, mode: s.mode & 0o777 };
  let values: Map<string, string>;
  try {
    values = parseEnvFile(text, '.env').values;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ...base, set: [], missing: [...requiredEnvKeys], visible: {}, malformed: `${err.setting}: ${err.found}` };
  }
  const set = [...values].filter(([, v]) => v.trim() !== '').map(([k]) => k);
  return {
    ...base,
    set,
    missing: requiredEnvKeys.filter((k) => !set.includes(k)),
    visible: Object.fromEntries([...values].filter(([k]) => showable.has(k))),
  };
}
