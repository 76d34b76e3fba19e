import { describe, test } from 'vitest';
import { check } from '../lib/harness/check';
import { target } from '../lib/harness/run';
import { inspectEnv, requiredEnvKeys } from '../lib/probes/env-file';
import { titleOf } from '../runbook/catalogue';

const t = target();
const env = await inspectEnv(t.projectDir).catch((err: Error) => err);

describe('1.2 Environment file', () => {
  test(titleOf('preflight.1.2.file'), (ctx) => {
    const c = check(ctx, 'preflight.1.2.file');
    if (env instanceof Error) throw env;
    if ('absent' in env) return c.judge({ present: false, example_only: env.exampleExists });
    c.judge({
      present: true,
      bytes: env.bytes,
      mode: env.mode.toString(8),
      malformed: env.malformed ?? null,
      is_example: env.isExample,
    });
  });

  test(`${titleOf('preflight.1.2.keys')}: ${requiredEnvKeys.join(', ')}`, (ctx) => {
    const c = check(ctx, 'preflight.1.2.keys');
    if (env instanceof Error) throw env;
    c.judge({ required: requiredEnvKeys.length, missing: 'absent' in env ? [...requiredEnvKeys] : env.missing });
  });

  test(titleOf('preflight.1.2.values'), (ctx) => {
    const c = check(ctx, 'preflight.1.2.values');
    if (env instanceof Error) throw env;
    c.judge('absent' in env ? {} : env.visible);
  });
});
