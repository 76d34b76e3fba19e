// `npm test` fails on unformatted source; `npm run format` fixes it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as prettier from 'prettier';
import { expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '..');

test('every TypeScript file is formatted as .prettierrc.json says (npm run format)', async () => {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  expect(files.length).toBeGreaterThan(50);
  const options = await prettier.resolveConfig(join(root, 'package.json'));
  const unformatted: string[] = [];
  for (const f of files) {
    const path = join(root, f);
    if (!(await prettier.check(readFileSync(path, 'utf8'), { ...options, filepath: path }))) unformatted.push(f);
  }
  expect(unformatted, 'run `npm run format`').toEqual([]);
}, 60_000);
