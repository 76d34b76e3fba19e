// The documentation states facts the code also holds: each is checked here against the code, so neither drifts.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, settings } from '../lib/harness/config';
import { catalogue } from './catalogue';

const read = (p: string) => readFileSync(join(repoRoot, p), 'utf8');

describe('the documentation', () => {
  it('docs/settings.md lists every setting config.ts reads, and none it does not', () => {
    const listed = new Set(
      [...read('docs/settings.md').matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) =>
        [...m[1]!.matchAll(/`(RUNBOOK_[A-Z0-9_]+|BUYWHERE_API_KEY)`/g)].map((x) => x[1]!),
      ),
    );
    const code = new Set(settings.map((s) => s.env));
    expect(
      [...code].filter((e) => !listed.has(e)),
      'settings without a row',
    ).toEqual([]);
    const extra = [...listed].filter((e) => !code.has(e) && !['RUNBOOK_TARGET', 'RUNBOOK_STAGING_DIR'].includes(e));
    expect(extra, 'rows of no setting').toEqual([]);
  });

  it("the README's map names specs that exist and catalogue ids that exist", () => {
    const map = read('README.md').split('## From the runbook to the code')[1]!.split('\n## ')[0]!;
    const paths = [...map.matchAll(/`((?:preflight|deploy|smoke|gonogo|rollback|scripts|lib)\/[^`]+\.ts)`/g)];
    expect(paths.length).toBeGreaterThan(10);
    for (const [, p] of paths) expect(existsSync(join(repoRoot, p!)), p).toBe(true);
    const ids = new Set(catalogue.map((e) => e.id as string));
    const named = [...map.matchAll(/`((?:preflight|deploy|smoke|rollback)\.[\w.]+)`/g)].map((m) => m[1]!);
    for (const id of named) expect(ids.has(id), id).toBe(true);
  });

  it('the README stays a front door: at most 200 lines, and every link to docs/ resolves', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(200);
    const docs = new Set(readdirSync(join(repoRoot, 'docs')));
    for (const [, f] of readme.matchAll(/\]\(docs\/([^)#]+)/g)) expect(docs.has(f!), f).toBe(true);
  });
});
