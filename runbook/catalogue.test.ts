import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  affiliateTag,
  affiliateUrlProblem,
  catalogue,
  conditions,
  entry,
  formatThreshold,
  withThousands,
  judge,
  maxRedirects,
  p99MinSamples,
  titleOf,
} from './catalogue';

const settings = { deployBranch: 'master', replicaMaxLagBytes: 1024 };
const met = (id: Parameters<typeof entry>[0], change: Record<string, unknown>) =>
  judge(id, { ...entry(id).example, ...change }, settings);

describe('smoke.replicas: each replica asked on its own port', () => {
  const rep = {
    slot: 2,
    node: 'worker-2',
    url: 'http://127.0.0.1:18001',
    http: 200,
    build: 'abc1234',
    runs: 'abc1234',
  };
  it('passes when every replica names the build its image was built from', () => {
    expect(met('smoke.replicas', { replicas: [{ ...rep, slot: 1 }, rep] })).toBeUndefined();
  });
  it('fails a replica of another build, or one that does not answer, naming its slot and node; and no replica at all', () => {
    expect(met('smoke.replicas', { replicas: [rep, { ...rep, build: 'old0000' }] })).toMatch(
      /replica 2 on worker-2 \(http:\/\/127\.0\.0\.1:18001\): names old0000, runs abc1234/,
    );
    expect(met('smoke.replicas', { replicas: [{ ...rep, http: null, build: null, problem: 'ECONNREFUSED' }] })).toMatch(
      /HTTP null, ECONNREFUSED/,
    );
    expect(met('smoke.replicas', { replicas: [] })).toMatch(/no API replica was measured/);
  });
  it('fails fewer replicas than the service asks for, or a count the engine did not give; more is not a fault', () => {
    const two = [{ ...rep, slot: 1 }, rep];
    expect(met('smoke.replicas', { desired: 2, replicas: two })).toBeUndefined();
    expect(met('smoke.replicas', { desired: 1, replicas: two })).toBeUndefined();
    expect(met('smoke.replicas', { desired: 3, replicas: two })).toMatch(
      /2 of the 3 API replicas the service asks for run/,
    );
    expect(met('smoke.replicas', { desired: null, replicas: two })).toMatch(/did not say how many/);
  });
});

describe('deploy.2.tag through a registry', () => {
  const digest = `sha256:${'c'.repeat(64)}`;
  it('passes with both images pushed and named by digest, and with no registry at all', () => {
    expect(met('deploy.2.tag', { registry: 'reg:5000', api_digest: digest, mcp_digest: digest })).toBeUndefined();
    expect(met('deploy.2.tag', {})).toBeUndefined();
  });
  it('fails a push that gave no digest, or one image not pushed, naming the registry and its words', () => {
    expect(
      met('deploy.2.tag', {
        registry: 'reg:5000',
        api_digest: null,
        mcp_digest: null,
        push_problem: 'connection refused',
      }),
    ).toMatch(/not pushed to reg:5000: connection refused/);
    expect(met('deploy.2.tag', { registry: 'reg:5000', api_digest: digest, mcp_digest: 'sha256:short' })).toMatch(
      /not pushed to reg:5000/,
    );
  });
});

describe('the runbook catalogue', () => {
  it('ids are unique and name their phase', () => {
    const ids = catalogue.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of catalogue) expect(e.id.startsWith(`${e.phase}.`), e.id).toBe(true);
  });

  it.each(catalogue.map((e) => [e.id]))('%s: its example meets its own rule', (id) => {
    expect(judge(id, entry(id as never).example, settings)).toBeUndefined();
  });

  it('every Go/No-Go condition is fed by a blocking check', () => {
    expect(conditions.map((c) => c.n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const c of conditions) expect(entry(c.check).kind).toBe('blocking');
  });

  it('anything but a record is not met, and an unknown id is not a check', () => {
    for (const bad of [null, undefined, 42, 'pass', []])
      expect(judge('smoke.1', bad, settings)).toMatch(/nothing was measured/);
    expect(judge('smoke.99', {}, settings)).toMatch(/not a runbook check/);
  });

  it('titles carry the runbook number and the threshold', () => {
    expect(titleOf('preflight.1.4')).toBe('1.4 — Disk usage < 85%');
    expect(titleOf('smoke.8')).toMatch(/^Smoke 8 — .*> 1,000,000 products/);
    expect(formatThreshold({ op: '<=', value: 60, unit: 's' })).toBe('≤ 60 s');
    expect(formatThreshold({ op: '<', value: 16_777_216, unit: 'bytes' })).toBe('< 16,777,216 bytes');
    for (const n of [0, 7, 999, 1000, 10_000, 1_000_001, 123_456_789_012, 12_345.5, 1234.0625])
      expect(withThousands(n)).toBe(n.toLocaleString('en-US', { maximumFractionDigits: 20 }));
  });
});

describe('thresholds at their edges', () => {
  it.each([
    ['preflight.1.4', { used_pct: 84.9 }, true],
    ['preflight.1.4', { used_pct: 85 }, false],
    ['preflight.1.3.pgbouncer', { usage_pct: 69.9 }, true],
    ['preflight.1.3.pgbouncer', { usage_pct: 70 }, false],
    ['preflight.1.3.pgbouncer', { usage_pct: 5, cl_waiting: 1 }, false],
    ['preflight.1.3.replica', { replay_lag_bytes: 1023 }, true],
    ['preflight.1.3.replica', { replay_lag_bytes: 1024 }, false],
    ['preflight.1.5', { age_h: 23.99 }, true],
    ['preflight.1.5', { age_h: 24 }, false],
    ['preflight.1.5', { age_h: -1 }, false],
    ['preflight.1.5', { complete: false }, false],
    ['preflight.1.5', { file: null, newer_incomplete: [{ file: 'b.dump', why: 'cut short' }] }, false],
    ['preflight.1.5', { tables_missing: ['click_log'] }, false],
    ['preflight.1.5', { tables_missing: undefined }, false],
    // A table that was empty when the backup ran and has rows since (today's clicks) is no sign of a bad backup.
    ['preflight.1.5', { tables_empty: ['affiliate_clicks'] }, true],
    ['preflight.1.5', { products_rows: 500, products_live: 1000 }, true],
    ['preflight.1.5', { products_rows: 499, products_live: 1000 }, false],
    ['preflight.1.5', { products_rows: 0, products_live: 0 }, true],
    ['preflight.1.5', { products_live: null }, false],
    ['preflight.1.5', { bytes: 500, previous: { file: 'a.dump', bytes: 1000 } }, true],
    ['preflight.1.5', { bytes: 499, previous: { file: 'a.dump', bytes: 1000 } }, false],
    ['preflight.1.5', { bytes: 499, previous: null }, true],
    ['preflight.1.5', { previous: { file: 'a.dump' } }, false],
    ['preflight.1.5.drill', { products_restored: 500_001, products_live: 1_000_001 }, true],
    ['preflight.1.5.drill', { products_restored: 500_000, products_live: 1_000_001 }, false],
    ['preflight.1.5.drill', { exit_code: 1 }, false],
    ['preflight.1.5.drill', { products_restored: null }, false],
    ['preflight.1.2.file', { mode: '640' }, true],
    ['preflight.1.2.file', { mode: '644' }, false],
    ['preflight.1.2.file', { is_example: 'JWT_SECRET_KEY has the value .env.example gives' }, false],
    ['preflight.1.2.file', { is_example: undefined }, false],
    ['preflight.1.1', { branch: 'main' }, false],
    ['smoke.2', { db_response_ms: 499 }, true],
    ['smoke.2', { db_response_ms: 500 }, false],
    ['smoke.2', { db_response_ms: -1 }, false],
    ['smoke.2', { db_response_ms: '3' }, false],
    ['smoke.2', { dependencies: { db: 'down', redis: 'healthy' } }, false],
    ['smoke.2', { dependencies: { db: 'OK', redis: 'up' } }, true],
    ['smoke.2', { dependencies: {} }, false],
    ['smoke.3', { total: 0 }, false],
    ['smoke.3', { total: 1.5 }, false],
    ['smoke.4', { usd_priced: 0 }, false],
    ['smoke.4', { usd_priced: 1 }, true],
    ['smoke.4', { usd_priced: 1, not_objects: 1 }, false],
    ['smoke.5', { first_product: '   ' }, false],
    ['smoke.8', { total_active_products: 1_000_000 }, false],
    ['smoke.8', { total_active_products: 1_000_001 }, true],
    ['smoke.8', { total_active_products: '1000001' }, false],
    ['smoke.10', { days_left: 31 }, true],
    ['smoke.10', { days_left: 30 }, false],
    ['smoke.10', { days_left: 29 }, false],
    ['smoke.10', { key_type: 'RSA', key_bits: 1024 }, false],
    ['smoke.10', { key_type: 'RSA', key_bits: 2048 }, true],
    ['smoke.10', { key_type: 'EC', key_bits: 255 }, false],
    ['smoke.10', { key_type: 'EC', key_bits: 256 }, true],
    ['smoke.10', { server_auth: false }, false],
    ['deploy.3', { seconds: 60 }, true],
    ['deploy.3', { seconds: 60.1 }, false],
    ['deploy.5', { seconds: 120 }, true],
    ['deploy.5', { seconds: 121 }, false],
    ['deploy.5.public', { http: 200, build: 'abc1234', deploying: 'abc1234def' }, true],
    ['deploy.5.public', { http: 200, build: 'abc1234def', deploying: 'abc1234' }, true],
    ['deploy.5.public', { http: 200, build: 'abc1235', deploying: 'abc1234' }, false],
    ['deploy.5.public', { http: 200, build: 'abc', deploying: 'abc1234' }, false],
    ['deploy.5.public', { http: 200, build: '', deploying: '' }, false],
    ['deploy.5.public', { http: 200, build: null, deploying: 'abc1234' }, false],
    ['deploy.5.public', { http: 502, build: 'abc1234', deploying: 'abc1234' }, false],
    ['deploy.2.build', { exit_code: 1 }, false],
    ['deploy.lock', { holder: null }, false],
    ['deploy.lock', { holder: { pid: 101, host: 'prod-1', started_at: '2026-04-23T11:00:00.000Z' } }, false],
    ['deploy.lock', { holder: { pid: 100, host: 'prod-2', started_at: '2026-04-23T11:00:00.000Z' } }, false],
    ['deploy.lock', { holder: { pid: 100, host: 'prod-1', started_at: '2026-04-23T11:05:00.000Z' } }, false],
    ['deploy.lock', { this_run: null }, false],
    ['deploy.lock', { held: true, holder: 'pid 100' }, false],
    ['deploy.8', { critical: { api: 'running (starting)' } }, false],
    ['preflight.1.6', { table: false, current: null, known: false }, true],
    ['preflight.1.6', { table: true, current: null }, false],
    ['preflight.1.6', { table: false, current: 'unreadable: connection refused' }, false],
    ['preflight.1.6', { table: true, current: '', known: false }, false],
    ['preflight.1.6', { table: true, current: '0009_future', known: false }, false],
    ['preflight.1.6', { table: true, current: '0002,0003', known: false }, false],
    ['preflight.1.6', { table: undefined }, false],
    ['preflight.1.6', { heads: 2 }, false],
    ['rollback.2', { mcp: null, mcp_present: null }, true],
    ['rollback.2', { api_present: false }, false],
    ['rollback.2', { mcp_present: false }, false],
    ['rollback.6.errors', { error_pct: 0.49 }, true],
    ['rollback.6.errors', { error_pct: 0.5 }, false],
  ] as const)('%s with %j: met = %s', (id, change, ok) => {
    const why = met(id, change);
    if (ok) expect(why).toBeUndefined();
    else expect(why).toEqual(expect.any(String));
  });

  it('rollback step 1: met only when the record says none is still running', () => {
    expect(met('rollback.1', { still_running: [] })).toBeUndefined();
    expect(met('rollback.1', { still_running: ['api', 'mcp'] })).toBe('still running: api, mcp');
    expect(met('rollback.1', { still_running: undefined })).toBe('still running: nothing');
    expect(met('rollback.1', { still_running: 'api' })).toBe('still running: "api"');
  });

  it('smoke 9: a p99 from fewer samples than the minimum, a failed sample or a slow one is not met', () => {
    const fast = Array(p99MinSamples).fill(10);
    expect(met('smoke.9', { samples_ms: fast })).toBeUndefined();
    expect(met('smoke.9', { samples_ms: fast.slice(1) })).toMatch(new RegExp(`${p99MinSamples - 1} samples`));
    expect(met('smoke.9', { samples_ms: [...fast.slice(1), null], failed: 1 })).toMatch(/failed/);
    expect(met('smoke.9', { samples_ms: [...fast.slice(2), 1999, 1999] })).toBeUndefined();
    // One slow request in a hundred is the 1% a p99 allows; two are not.
    expect(met('smoke.9', { samples_ms: [...fast.slice(1), 5000] })).toBeUndefined();
    expect(met('smoke.9', { samples_ms: [...fast.slice(2), 2000, 2000] })).toMatch(/p99 is 2000 ms/);
    expect(met('smoke.9', { runbook_three_ms: [10, 2000, 10] })).toMatch(/3 requests took/);
  });

  it("smoke 9: a failure says how many of the sample's own requests were in flight, when it had more than one", () => {
    const fast = Array(p99MinSamples).fill(10);
    const inFlight = /with up to 55 of the sample's requests in flight/;
    expect(met('smoke.9', { samples_ms: [...fast, null], failed: 1, most_in_flight: 55 })).toMatch(inFlight);
    expect(met('smoke.9', { samples_ms: [...fast.slice(2), 2000, 2000], most_in_flight: 55 })).toMatch(inFlight);
    expect(met('smoke.9', { samples_ms: fast, stopped_early: 'sample 85 failed', most_in_flight: 55 })).toMatch(
      inFlight,
    );
    expect(met('smoke.9', { samples_ms: [...fast.slice(2), 2000, 2000], most_in_flight: 1 })).not.toMatch(/in flight/);
    expect(met('smoke.9', { samples_ms: [...fast.slice(2), 2000, 2000] })).not.toMatch(/in flight/);
  });

  it(`smoke 6: exactly ${maxRedirects} redirects pass and ${maxRedirects + 1} fail; only 301, 302, 303, 307, 308 are redirects`, () => {
    expect(met('smoke.6', { statuses: Array(maxRedirects).fill(302) })).toBeUndefined();
    expect(met('smoke.6', { statuses: Array(maxRedirects + 1).fill(302) })).toMatch(/6 redirects/);
    expect(met('smoke.6', { statuses: [300] })).toMatch(/only 301/);
    expect(met('smoke.6', { statuses: [304] })).toMatch(/only 301/);
    expect(met('smoke.6', { statuses: [308] })).toBeUndefined();
  });

  it.each([
    [`https://www.amazon.com/dp/x?tag=${affiliateTag}`, undefined],
    [`https://amazon.com/dp/x?tag=${affiliateTag}`, undefined],
    [`https://WWW.AMAZON.COM./dp/x?tag=${affiliateTag}`, undefined],
    [`http://www.amazon.com/dp/x?tag=${affiliateTag}`, /not https/],
    [`https://www.amazon.com.evil.example/dp/x?tag=${affiliateTag}`, /not amazon.com/],
    [`https://xn--amzon-0qa.com/dp/x?tag=${affiliateTag}`, /not amazon.com/],
    [`https://notamazon.com/dp/x?tag=${affiliateTag}`, /not amazon.com/],
    [`https://www.amazon.com:8443/dp/x?tag=${affiliateTag}`, /port 8443/],
    [`https://user:pw@www.amazon.com/dp/x?tag=${affiliateTag}`, /userinfo/],
    [`https://www.amazon.com/dp/x?tag=${affiliateTag}&tag=other`, /2 tag parameters/],
    ['https://www.amazon.com/dp/x', /0 tag parameters/],
    [`https://www.amazon.com/dp/x?TAG=${affiliateTag}`, /0 tag parameters/],
    [`https://www.amazon.com/dp/x?tag=${affiliateTag}0`, /expected buywhere-20/],
    ['not a url', /does not parse/],
  ])('affiliate URL %s', (url, why) => {
    const p = affiliateUrlProblem(url);
    if (why) expect(p).toMatch(why);
    else expect(p).toBeUndefined();
  });
});

describe('every threshold judged at full precision, at its edge', () => {
  // Where each thresholded check records the value its threshold compares.
  const field: Record<string, (v: number) => Record<string, unknown>> = {
    'preflight.1.3.pgbouncer': (v) => ({ usage_pct: v }),
    'preflight.1.4': (v) => ({ used_pct: v }),
    'preflight.1.5': (v) => ({ age_h: v }),
    'deploy.3': (v) => ({ seconds: v }),
    'deploy.5': (v) => ({ seconds: v }),
    'deploy.6.mcp': (v) => ({ seconds: v }),
    'smoke.2': (v) => ({ db_response_ms: v }),
    'smoke.8': (v) => ({ total_active_products: v }),
    'smoke.9': (v) => ({ samples_ms: Array.from({ length: p99MinSamples }, () => v) }),
    'smoke.10': (v) => ({ days_left: v }),
    'rollback.4': (v) => ({ seconds: v }),
    'rollback.6.smoke2': (v) => ({ db_response_ms: v }),
    'rollback.6.errors': (v) => ({ error_pct: v }),
  };
  const thresholded = catalogue.filter((e) => e.threshold);

  it('the table below names every thresholded check', () => {
    expect(Object.keys(field).sort()).toEqual(thresholded.map((e) => e.id).sort());
  });

  // A thousandth of the unit: a millisecond of seconds, a microsecond of milliseconds. Counts step by one.
  for (const e of thresholded) {
    const th = e.threshold!;
    const step = e.id === 'smoke.8' ? 1 : 0.001;
    const [inside, outside] = {
      '<': [th.value - step, th.value],
      '<=': [th.value, th.value + step],
      '>': [th.value + step, th.value],
      '>=': [th.value, th.value - step],
    }[th.op];
    it(`${e.id} (${formatThreshold(th)}): ${inside} passes, ${outside} fails`, () => {
      expect(met(e.id, field[e.id]!(inside!))).toBeUndefined();
      expect(met(e.id, field[e.id]!(outside!))).toEqual(expect.any(String));
    });
  }

  it('the cases the runbook was rounded past: 30 days 23 h left passes smoke 10; MCP at 30.04 s fails step 6', () => {
    expect(met('smoke.10', { days_left: 30 + 23 / 24 })).toBeUndefined();
    expect(met('deploy.6.mcp', { seconds: 30.04 })).toMatch(/time to HTTP 200 is 30.04 s, expected ≤ 30 s/);
    expect(met('preflight.1.4', { used_pct: 84.9996 })).toBeUndefined();
    expect(met('preflight.1.4', { used_pct: 85.0004 })).toMatch(/is 85.0004%, expected < 85%/);
    expect(met('preflight.1.4', { used_pct: 91.2345 })).toMatch(/is ≈ 91.23%, expected < 85%/);
  });
});

describe('one source of truth', () => {
  const root = join(__dirname, '..');
  const sources = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const p = join(dir, name);
      if (['node_modules', '.staging', 'reports', '.git', 'test', 'bench', 'staging'].includes(name)) return [];
      if (statSync(p).isDirectory()) return sources(p);
      return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) && !p.endsWith(join('runbook', 'catalogue.ts')) ? [p] : [];
    });

  it('no runbook threshold is written outside the catalogue', () => {
    const literals = [
      /< ?85\b|85 ?%/,
      /< ?70\b|70 ?%/,
      /\b24 ?h\b/,
      /\b500 ?ms\b|< ?500\b/,
      /1[,_]?000[,_]?000\b/,
      /\b2 ?s\b|< ?2000\b/,
      /\b30 days\b|> ?30\b/,
      /buywhere-20\b/,
    ];
    const found: string[] = [];
    for (const f of sources(root)) {
      const text = readFileSync(f, 'utf8');
      for (const re of literals) if (re.test(text)) found.push(`${relative(root, f)}: ${re.source}`);
    }
    expect(found).toEqual([]);
  });
});

describe('Go/No-Go conditions in words', () => {
  it.each(conditions.map((c) => [c.n, c.title, c] as const))(
    '%i %s: its check example reads as a sentence',
    (_, __, c) => {
      const text = c.present(entry(c.check).example);
      expect(text).toEqual(expect.any(String));
      expect(text).not.toMatch(/[{}[\]]/);
    },
  );

  it('reads what Rex needs: p99 over its samples, backup age, disk share', () => {
    const [, , , , backup, disk, p99] = conditions;
    expect(p99!.present({ runbook_three_ms: [391, 7, 2], samples_ms: Array.from({ length: 50 }, () => 23) })).toBe(
      'p99 23 ms over 50 searches (runbook: 391 / 7 / 2 ms)',
    );
    expect(p99!.present({ runbook_three_ms: [625.1888080000001, 37.9, 6], samples_ms: [5.25] })).toBe(
      'p99 5.25 ms over 1 searches (runbook: ≈ 625.2 / 37.9 / 6 ms)',
    );
    expect(backup!.present({ age_h: 0.2, file: 'catalog-1.dump' })).toBe(
      'last complete backup 12 min old (catalog-1.dump)',
    );
    expect(
      backup!.present({ age_h: 2, file: 'a.dump', products_rows: 1_000_001, newer_incomplete: [{ file: 'b.dump' }] }),
    ).toBe('last complete backup 2 h old (a.dump), read to its end: 1,000,001 products; 1 newer backup not complete');
    expect(disk!.present({ used_pct: 24.9, path: '/' })).toBe('disk 24.9 % of /');
  });

  it('a record without what a sentence needs gives no sentence: the raw record is shown instead', () => {
    for (const c of conditions) expect(c.present({})).toBeUndefined();
  });
});
