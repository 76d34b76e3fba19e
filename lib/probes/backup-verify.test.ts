import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Backup } from './backup';
import {
  backupRecord,
  chooseBackup,
  completionMarker,
  maxOlderReads,
  parseReading,
  VerifiedBackups,
  type ArchiveReading,
} from './backup-verify';

const whole = ['rows public.products 1000', 'rows public.click_log 0', `last ${completionMarker}`, 'done 1', 'exit 0'];

describe('parseReading', () => {
  it('complete: exit 0, the reader read to the end, and the completion marker came last', () => {
    expect(parseReading(whole.join('\n'), 0, false)).toEqual({
      complete: true,
      rows: { products: 1000, click_log: 0 },
    });
  });

  it('a reader that stopped part-way is not complete, with its own words', () => {
    const out = [
      'rows public.products 10',
      'last ',
      'done 0',
      'exit 1',
      'stderr pg_restore: error: could not read from input file: end of file',
    ];
    const r = parseReading(out.join('\n'), 0, false);
    expect(r.complete).toBe(false);
    expect(r.why).toMatch(/does not read to the end \(exit 1: pg_restore: error: could not read from input file/);
  });

  it('plain SQL cut short: it decompresses, but the marker never came', () => {
    const r = parseReading(['rows public.products 3', 'last INSERT …', 'done 0', 'exit 0'].join('\n'), 0, false);
    expect(r).toMatchObject({ complete: false, why: expect.stringMatching(/cut short/) });
  });

  it('no exit line (the container died) is not complete; a timeout says so', () => {
    expect(parseReading('rows public.products 3\n', 0, false).complete).toBe(false);
    expect(parseReading(whole.join('\n'), undefined, true)).toMatchObject({ complete: false, why: /deadline/ });
    expect(parseReading(whole.join('\n'), 137, false)).toMatchObject({ complete: false, why: /exited 137/ });
  });

  it("only public's tables count: a table of the same name in another schema is not their data", () => {
    const out = [
      'rows archive.products 1000000',
      'rows public.products 3',
      `last ${completionMarker}`,
      'done 1',
      'exit 0',
    ];
    expect(parseReading(out.join('\n'), 0, false).rows).toEqual({ products: 3 });
  });

  it('quoted table names lose their schema and quotes; a table copied twice adds up', () => {
    const out = ['rows public."Odd" 2', 'rows public."Odd" 3', `last ${completionMarker}`, 'done 1', 'exit 0'];
    expect(parseReading(out.join('\n'), 0, false).rows).toEqual({ Odd: 5 });
  });
});

const backup = (name: string, hoursAgo: number, bytes = 1000): Backup => ({
  file: `/b/${name}`,
  name,
  bytes,
  modified: new Date(Date.now() - hoursAgo * 3_600_000),
  ageHours: hoursAgo,
  identity: `id-${name}-${bytes}`,
});
const ok = (rows: Record<string, number> = { products: 10 }): ArchiveReading => ({ complete: true, rows, ms: 100 });
const cut: ArchiveReading = { complete: false, why: 'cut short', rows: {}, ms: 50 };
const memory = () => {
  const known = new Set<string>();
  return { has: (b: Backup) => known.has(b.identity), remember: (b: Backup) => void known.add(b.identity), known };
};

describe('chooseBackup', () => {
  it('the newest complete backup decides; a newer one cut short is named; the one before it is the size to compare', async () => {
    const list = [backup('c', 1), backup('b', 2), backup('a', 3)];
    const readings: Record<string, ArchiveReading> = { c: cut, b: ok(), a: ok() };
    const read: string[] = [];
    const r = await chooseBackup(list, async (b) => (read.push(b.name), readings[b.name]!), memory());
    expect(r.chosen?.name).toBe('b');
    expect(r.newerIncomplete).toEqual([{ file: 'c', why: 'cut short' }]);
    expect(r.previous?.name).toBe('a');
    expect(read).toEqual(['c', 'b', 'a']);
    expect(r.readMs).toBe(250);
    expect(r.readBytes).toBe(3000);
  });

  it('only backups cut short: none is chosen, each is named', async () => {
    const r = await chooseBackup([backup('b', 1), backup('a', 2)], async () => cut, memory());
    expect(r.chosen).toBeUndefined();
    expect(r.newerIncomplete.map((n) => n.file)).toEqual(['b', 'a']);
  });

  it('a previous backup read complete before is not read again; the one that decides always is', async () => {
    const m = memory();
    const list = [backup('b', 1), backup('a', 2)];
    await chooseBackup(list, async () => ok(), m);
    const read: string[] = [];
    const r = await chooseBackup(list, async (b) => (read.push(b.name), ok()), m);
    expect(read).toEqual(['b']);
    expect(r.previous?.name).toBe('a');
  });

  it(`looks for the previous complete backup among ${maxOlderReads} older ones at most`, async () => {
    const list = [backup('n', 1), ...Array.from({ length: 6 }, (_, i) => backup(`o${i}`, i + 2))];
    const read: string[] = [];
    const r = await chooseBackup(list, async (b) => (read.push(b.name), b.name === 'n' ? ok() : cut), memory());
    expect(read).toHaveLength(1 + maxOlderReads);
    expect(r.previous).toBeUndefined();
  });
});

describe('backupRecord', () => {
  const live = { estimates: { products: 1000, click_log: null, categories: 5 }, products: 1000 };
  const where = { dir: '/b', notBackups: [] };

  it('names the live tables with no data in the archive, and those empty there but not live', () => {
    const chosen = { ...backup('b', 1), reading: ok({ products: 1000, click_log: 0, categories: 0 }) };
    const m = backupRecord({ chosen, newerIncomplete: [], readMs: 1000, readBytes: 2e6 }, live, where);
    expect(m).toMatchObject({ tables_missing: [], tables_empty: ['categories'], products_rows: 1000, mb_per_s: 2 });
    const without = { ...backup('b', 1), reading: ok({ products: 1000 }) };
    expect(
      backupRecord({ chosen: without, newerIncomplete: [], readMs: 1, readBytes: 1 }, live, where).tables_missing,
    ).toEqual(['click_log', 'categories']);
  });

  it('no complete backup: file null, with what was tried', () => {
    const m = backupRecord(
      { newerIncomplete: [{ file: 'b', why: 'cut short' }], readMs: 0, readBytes: 0 },
      live,
      where,
    );
    expect(m).toMatchObject({ file: null, complete: false, newer_incomplete: [{ file: 'b' }], mb_per_s: null });
  });
});

describe('VerifiedBackups', () => {
  it('keeps what was read complete, for backups still in the folder only, in a file of mode 600', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vb-')), 'verified.json');
    const a = backup('a', 2);
    const b = backup('b', 1);
    new VerifiedBackups(path).remember(a, { products: 1 }, [a, b]);
    const v = new VerifiedBackups(path);
    expect(v.has(a)).toBe(true);
    expect(v.has({ ...a, identity: 'changed' })).toBe(false);
    v.remember(b, {}, [b]);
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')) as object)).toEqual([b.identity]);
  });

  it('an unreadable or malformed file remembers nothing', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vb-')), 'verified.json');
    expect(new VerifiedBackups(path).has(backup('a', 1))).toBe(false);
  });
});
