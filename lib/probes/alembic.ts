import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CouldNotCheck } from '../core/errors.js';

export interface Revision {
  revision: string;
  downRevisions: string[];
  file: string;
  /** False when downgrade() is missing, only passes, or raises. */
  reversible: boolean;
}

const assignment = (name: string) => new RegExp(`^${name}\\s*(?::[^=\\n]+)?=\\s*(.+)$`, 'm');

/** Parses `revision` and `down_revision` in plain (`x = '…'`) and typed (`x: str = '…'`) form; tuples mean a merge. */
export function parseRevision(source: string, file: string): Revision | undefined {
  const rev = assignment('revision').exec(source)?.[1];
  if (!rev) return undefined;
  const str = (s: string) => [...s.matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  const revision = str(rev)[0];
  if (!revision) return undefined;
  const down = assignment('down_revision').exec(source)?.[1] ?? 'None';
  const body = /def downgrade\([^)]*\)[^:]*:\s*\n([\s\S]*?)(?=\ndef |\n\S|$)/.exec(source)?.[1] ?? '';
  const statements = body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('"""'));
  const reversible =
    statements.length > 0 && !statements.every((l) => l === 'pass') && !statements.some((l) => /^raise\b/.test(l));
  return { revision, downRevisions: str(down), file, reversible };
}

export async function readRevisions(versionsDir: string): Promise<Revision[]> {
  let names: string[];
  try {
    names = (await readdir(versionsDir)).filter((n) => n.endsWith('.py'));
  } catch (err) {
    throw new CouldNotCheck(`cannot read ${versionsDir}: ${(err as Error).message}`, { cause: err });
  }
  const out: Revision[] = [];
  for (const n of names.sort()) {
    const r = parseRevision(await readFile(join(versionsDir, n), 'utf8'), n);
    if (r) out.push(r);
  }
  return out;
}

/** Heads: revisions no other revision names as its down_revision. */
export function heads(revisions: Revision[]): string[] {
  const parents = new Set(revisions.flatMap((r) => r.downRevisions));
  return revisions.map((r) => r.revision).filter((r) => !parents.has(r));
}

/** Revisions between `from` (exclusive ancestor) and `to` (a head), walking down_revision links. */
export function path(revisions: Revision[], to: string, from: string): Revision[] | undefined {
  const byId = new Map(revisions.map((r) => [r.revision, r]));
  const out: Revision[] = [];
  let cur: string | undefined = to;
  while (cur && cur !== from) {
    const r = byId.get(cur);
    if (!r || r.downRevisions.length > 1) return undefined;
    out.push(r);
    cur = r.downRevisions[0];
  }
  return cur === from ? out : undefined;
}
