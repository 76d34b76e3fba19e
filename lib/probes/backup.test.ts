import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globToRegExp, scanBackups } from './backup';

const now = new Date('2026-04-23T12:00:00Z');
function folder(files: Array<[name: string, content: string | Buffer, hoursAgo: number]>) {
  const dir = mkdtempSync(join(tmpdir(), 'bk-'));
  for (const [name, content, hoursAgo] of files) {
    writeFileSync(join(dir, name), content);
    const t = new Date(now.getTime() - hoursAgo * 3_600_000);
    utimesSync(join(dir, name), t, t);
  }
  return dir;
}
const custom = { pattern: 'catalog-*.dump', format: 'custom' as const };

describe('scanBackups', () => {
  it('takes the newest real dump; a newer log, empty file, wrong name or headerless file is not a backup', async () => {
    const dir = folder([
      ['catalog-old.dump', 'PGDMP...', 30],
      ['catalog-new.dump', 'PGDMP...', 5],
      ['backup.log', 'PGDMP but a log name', 1],
      ['catalog-empty.dump', '', 1],
      ['catalog-text.dump', 'not a dump', 1],
      ['.catalog-partial.dump', 'PGDMP', 0.5],
    ]);
    const r = await scanBackups(dir, custom, now);
    expect(r.backups.map((b) => b.name)).toEqual(['catalog-new.dump', 'catalog-old.dump']);
    expect(r.backups[0]?.file).toBe(join(dir, 'catalog-new.dump'));
    expect(r.backups[0]?.ageHours).toBeCloseTo(5);
    expect(r.ignored.sort()).toEqual(['backup.log', 'catalog-empty.dump', 'catalog-text.dump']);
  });

  it('only junk: no backup at all', async () => {
    const r = await scanBackups(folder([['backup.log', 'x', 1]]), custom, now);
    expect(r.backups).toEqual([]);
  });

  it('a dump dated in the future comes back with a negative age, for the check to refuse', async () => {
    const r = await scanBackups(
      folder([
        ['catalog-a.dump', 'PGDMP', 30],
        ['catalog-b.dump', 'PGDMP', -5],
      ]),
      custom,
      now,
    );
    expect(r.backups[0]?.ageHours).toBeCloseTo(-5);
  });

  it('gzip and plain SQL formats are recognised by their headers', async () => {
    const dir = folder([
      ['db.sql.gz', Buffer.from([0x1f, 0x8b, 0x08]), 2],
      ['db.sql', '--\n-- PostgreSQL database dump', 1],
    ]);
    expect((await scanBackups(dir, { pattern: '*.sql.gz', format: 'gzip' }, now)).backups[0]?.file).toMatch(
      /db\.sql\.gz$/,
    );
    expect((await scanBackups(dir, { pattern: '*.sql', format: 'sql' }, now)).backups[0]?.file).toMatch(/db\.sql$/);
  });

  it('an unreadable folder is CouldNotCheck', async () => {
    await expect(scanBackups('/nonexistent/backups', custom, now)).rejects.toThrow(/cannot list backups/);
  });

  it("a file's identity changes when its bytes change, so a verification is never kept for a new file", async () => {
    const dir = folder([['catalog-a.dump', 'PGDMP.....', 1]]);
    const before = (await scanBackups(dir, custom, now)).backups[0]!.identity;
    writeFileSync(join(dir, 'catalog-a.dump'), 'PGDMP..');
    const t = new Date(now.getTime() - 3_600_000);
    utimesSync(join(dir, 'catalog-a.dump'), t, t);
    expect((await scanBackups(dir, custom, now)).backups[0]!.identity).not.toBe(before);
  });

  it('patterns match whole names, with only * and ? special', () => {
    expect(globToRegExp('catalog-*.dump').test('catalog-1.dump')).toBe(true);
    expect(globToRegExp('catalog-*.dump').test('catalog-1.dump.log')).toBe(false);
    expect(globToRegExp('a?.sql').test('ab.sql')).toBe(true);
    expect(globToRegExp('a+b.sql').test('aab.sql')).toBe(false);
  });
});
