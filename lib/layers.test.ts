// The house rule: imports run down the layers and never back up. The runbook's catalogue is data; core holds
// primitives every layer shares; probes read the world; operations change it; the harness runs the phases;
// specs, scripts and staging sit on top.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '..');
export const layers = ['runbook', 'lib/core', 'lib/probes', 'lib/operations', 'lib/harness'] as const;

export function layerOf(file: string): number {
  const i = layers.findIndex((l) => file === l || file.startsWith(`${l}/`));
  return i === -1 ? layers.length : i;
}

/** Every relative import of a source text, `import type` included: a type from a higher layer is a dependency too. */
export function importsOf(text: string): string[] {
  const found = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g),
    ...text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g),
  ];
  return found.map((m) => m[1]!);
}

export function upwardImports(files: Array<{ path: string; text: string }>): string[] {
  const out: string[] = [];
  for (const f of files) {
    const from = layerOf(f.path);
    for (const spec of importsOf(f.text)) {
      const to = relative(root, resolve(root, dirname(f.path), spec)).replace(/\.js$/, '');
      if (layerOf(to) > from)
        out.push(`${f.path} → ${to} (${layers[from] ?? 'top'} imports ${layers[layerOf(to)] ?? 'top'})`);
    }
  }
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(join(root, p)).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('layers', () => {
  test('no module imports from a layer above its own', () => {
    const files = [...sources('runbook'), ...sources('lib')].map((path) => ({
      path,
      text: readFileSync(join(root, path), 'utf8'),
    }));
    expect(files.length).toBeGreaterThan(40);
    expect(upwardImports(files)).toEqual([]);
  });

  test('the rule catches an upward import, a type-only one and a dynamic one', () => {
    expect(
      upwardImports([
        { path: 'lib/probes/docker.ts', text: "import { target } from '../harness/config.js';" },
        { path: 'lib/core/wait.ts', text: "import type { Lock } from '../operations/lock.js';" },
        { path: 'runbook/catalogue.ts', text: "const m = await import('../lib/core/errors.js');" },
        {
          path: 'lib/operations/lock.ts',
          text: "import { CouldNotCheck } from '../core/errors.js';\nimport { x } from '../../smoke/checks.js';",
        },
      ]),
    ).toEqual([
      'lib/probes/docker.ts → lib/harness/config (lib/probes imports lib/harness)',
      'lib/core/wait.ts → lib/operations/lock (lib/core imports lib/operations)',
      'runbook/catalogue.ts → lib/core/errors (runbook imports lib/core)',
      'lib/operations/lock.ts → smoke/checks (lib/operations imports top)',
    ]);
  });

  test('imports down, sideways within a layer, and from packages pass', () => {
    expect(
      upwardImports([
        {
          path: 'lib/harness/check.ts',
          text: "import { entry } from '../../runbook/catalogue.js';\nimport { target } from './config.js';\nimport { x } from '../probes/http.js';",
        },
        {
          path: 'lib/core/exec.ts',
          text: "import { execa } from 'execa';\nimport { CouldNotCheck } from './errors.js';",
        },
      ]),
    ).toEqual([]);
  });
});
