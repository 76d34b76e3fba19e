import { describe, expect, test } from 'vitest';
import { check } from '../lib/check';
import { target } from '../lib/config';
import { inspectEnv, requiredEnvKeys } from '../lib/dotenv';

const t = target();
const env = await inspectEnv(t.projectDir);
const present = 'absent' in env ? undefined : env;

describe('1.2 Environment file', () => {
  test('1.2 .env present (not .env.example), not zero-length, not readable by others', async (ctx) => {
    const c = check(ctx, { id: 'preflight.1.2.file', threshold: 'exists, > 0 bytes, mode without o+r', action: 'Create .env from the deploy secrets (not .env.example) and chmod 600 it' });
    if ('absent' in env) {
      c.measured(env.exampleExists ? 'only .env.example' : 'absent');
      expect.fail(c.says(env.exampleExists ? '.env is missing; only .env.example exists' : `.env is missing in ${t.projectDir}`));
    }
    c.measured({ bytes: env.bytes, mode: env.mode.toString(8) });
    expect(env.bytes, c.says('.env size in bytes')).toBeGreaterThan(0);
    expect(env.malformed, c.says('.env parses as KEY=VALUE lines')).toBeUndefined();
    expect(env.mode & 0o004, c.says(`.env is readable by others (mode ${env.mode.toString(8)})`)).toBe(0);
  });

  test(`1.2 All ${requiredEnvKeys.length} required keys present with non-empty values`, async (ctx) => {
    const c = check(ctx, { id: 'preflight.1.2.keys', threshold: requiredEnvKeys.join(', '), action: 'Add the missing keys to .env' });
    expect(present, c.says('.env readable')).toBeDefined();
    c.measured(`${requiredEnvKeys.length - present!.missing.length}/${requiredEnvKeys.length} set`);
    expect(present!.missing, c.says('keys missing or empty')).toEqual([]);
  });

  test('1.2 USD_DEFAULT set, US_REGION=us, AFFILIATE_TAG=buywhere-20', async (ctx) => {
    const c = check(ctx, { id: 'preflight.1.2.values', threshold: 'USD_DEFAULT non-empty, US_REGION=us, AFFILIATE_TAG=buywhere-20', action: 'Fix the values in .env' });
    expect(present, c.says('.env readable')).toBeDefined();
    const v = c.measured(present!.visible);
    expect(v.USD_DEFAULT ?? '', c.says('USD_DEFAULT')).not.toBe('');
    expect(v.US_REGION, c.says('US_REGION')).toBe('us');
    expect(v.AFFILIATE_TAG, c.says('AFFILIATE_TAG')).toBe('buywhere-20');
  });
});
