import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  phaseSettings,
  requireSettings,
  resolveFor,
  resolveTarget,
  snapshotSettings,
  targetFromSnapshot,
} from './config';
import { ConfigError } from '../core/errors';

const prodEnv = {
  RUNBOOK_TARGET: 'production',
  RUNBOOK_DB_URL: 'postgresql://buywhere:pw-primary-1234@127.0.0.1:5432/catalog',
  RUNBOOK_REPLICA_URL: 'postgresql://buywhere:pw-replica-1234@127.0.0.1:5433/catalog',
  RUNBOOK_PGBOUNCER_ADMIN_URL: 'postgresql://pgbouncer:pw-bouncer-1234@127.0.0.1:6432/pgbouncer',
  RUNBOOK_REDIS_URL: 'redis://:pw-redis-1234@127.0.0.1:6379/0',
  BUYWHERE_API_KEY: 'bw_live_key_123456',
};

describe('resolveTarget', () => {
  it('production keeps the runbook values', () => {
    const { target } = resolveFor('all', prodEnv);
    expect(target.projectDir).toBe('/home/paperclip/buywhere-api');
    expect(target.composeFile).toBe('docker-compose.prod.yml');
    expect(target.apiUrl).toBe('https://api.buywhere.ai');
    expect(target.mcpUrl).toBe('http://localhost:8080');
    expect(target.deployBranch).toBe('master');
    expect(target.backupCommand).toEqual(['./deploy.sh', 'backup']);
    expect(target.monitoringServices).toContain('grafana');
  });

  it('secrets print as [redacted] and overrides are listed without secret values', () => {
    const { target, overrides } = resolveFor('all', { ...prodEnv, RUNBOOK_API_URL: 'https://127.0.0.1:9443' });
    expect(String(target.apiKey)).toBe('[redacted]');
    expect(JSON.stringify(target)).not.toContain('pw-primary-1234');
    expect(JSON.stringify(target)).not.toContain('bw_live_key_123456');
    const shown = JSON.stringify(overrides);
    expect(shown).toContain('RUNBOOK_API_URL');
    expect(shown).not.toContain('pw-');
    expect(shown).not.toContain('bw_live');
    expect(target.secretValues).toEqual(expect.arrayContaining(['pw-primary-1234', 'bw_live_key_123456']));
  });

  it('production needs no data-service URL and no password: unset, each data service is reached inside its container', () => {
    const { target } = resolveFor('all', { RUNBOOK_TARGET: 'production', BUYWHERE_API_KEY: 'bw_live_key_123456' });
    expect(target.databaseUrl).toBeUndefined();
    expect(target.replicaUrl).toBeUndefined();
    expect(target.pgbouncerAdminUrl).toBeUndefined();
    expect(target.redisUrl).toBeUndefined();
    expect(target.apiLocalUrl).toBe('http://localhost:8000');
  });

  it('a missing production setting stops the run, naming it and where to set it', () => {
    const { BUYWHERE_API_KEY: _, ...rest } = prodEnv;
    expect(() => resolveFor('all', rest)).toThrow(ConfigError);
    expect(() => resolveFor('all', rest)).toThrow(/BUYWHERE_API_KEY.*Export BUYWHERE_API_KEY/s);
  });

  it('every missing or malformed setting is named at once, each with what was expected, found and where to set it', () => {
    const { BUYWHERE_API_KEY: _k, ...rest } = prodEnv;
    let err: unknown;
    try {
      resolveFor('all', { ...rest, RUNBOOK_P99_SAMPLES: 'many', RUNBOOK_REDIS_URL: 'not a url' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as Error).message.split('\n');
    expect(lines[0]).toBe('3 settings need fixing:');
    // Each in the one failure shape: the setting, then what was expected, what was found and what to do.
    expect(lines.slice(1)).toEqual([
      '  - RUNBOOK_REDIS_URL',
      expect.stringMatching(/^ {6}expected: a URL such as /),
      '      found:    a value that does not parse',
      expect.stringMatching(/^ {6}action: {3}Fix RUNBOOK_REDIS_URL/),
      '  - BUYWHERE_API_KEY',
      '      expected: API key for /v1/status',
      '      found:    nothing',
      expect.stringMatching(/^ {6}action: {3}Export BUYWHERE_API_KEY=/),
      '  - RUNBOOK_P99_SAMPLES',
      '      expected: a whole number greater than 0',
      '      found:    "many"',
      expect.stringMatching(/^ {6}action: {3}Fix RUNBOOK_P99_SAMPLES/),
    ]);
  });

  it('the staging wait cap is inert on production, whatever the environment says', () => {
    const r = resolveFor('all', { ...prodEnv, RUNBOOK_STAGING_WAIT_S: '5' });
    expect(r.target.stagingWaitS).toBeUndefined();
    expect(r.overrides).toContainEqual({ env: 'RUNBOOK_STAGING_WAIT_S', value: '5 (ignored on production)' });
  });

  it.each([
    ['RUNBOOK_API_URL', 'ftp://x', /http or https URL/],
    ['RUNBOOK_P99_SAMPLES', 'many', /whole number/],
    ['RUNBOOK_RUN_BACKUP', 'perhaps', /true or false/],
    ['RUNBOOK_DISK_PATH', 'relative/path', /absolute path/],
    ['RUNBOOK_CA_FILE', '/nonexistent/ca.pem', /readable file/],
    ['RUNBOOK_TARGET', 'prod', /"staging" or "production"/],
    ['RUNBOOK_EVIDENCE_MAX_AGE_MIN', '91', /expected: a whole number from 1 to 90\n {2}found: {4}"91"/],
    ['RUNBOOK_EVIDENCE_MAX_AGE_MIN', '0', /expected: a whole number from 1 to 90\n {2}found: {4}"0"/],
  ])('rejects a malformed %s', (env, value, message) => {
    expect(() => resolveFor('all', { ...prodEnv, [env]: value })).toThrow(message);
  });

  it("the evidence window goes up to the runbook's deploy window, 90 minutes, and is listed as an override", () => {
    const r = resolveFor('all', { ...prodEnv, RUNBOOK_EVIDENCE_MAX_AGE_MIN: '90' });
    expect(r.target.evidenceMaxAgeMin).toBe(90);
    expect(r.overrides).toContainEqual({ env: 'RUNBOOK_EVIDENCE_MAX_AGE_MIN', value: '90' });
  });

  it('a malformed secret URL is rejected without echoing it', () => {
    try {
      resolveFor('all', { ...prodEnv, RUNBOOK_DB_URL: 'not a url with hunter2secret' });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('RUNBOOK_DB_URL');
      expect((e as Error).message).not.toContain('hunter2secret');
    }
  });

  it('staging without a laid-out project says to run staging:up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-'));
    expect(() => resolveFor('all', { RUNBOOK_STAGING_DIR: join(dir, 'none') })).toThrow(/staging:up/);
  });

  it('staging reads its secrets from the project .env and builds loopback URLs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-'));
    mkdirSync(join(dir, 'tls'));
    writeFileSync(join(dir, 'tls', 'ca.crt'), 'PEM');
    writeFileSync(
      join(dir, '.env'),
      'COMPOSE_PROJECT_NAME=p\nAPI_PORT=1\nMCP_PORT=2\nDB_PORT=3\nDB_REPLICA_PORT=4\nPGBOUNCER_PORT=5\nPROMETHEUS_PORT=6\nALERTMANAGER_PORT=7\nAPI_LOCAL_PORT=9\nPOSTGRES_PASSWORD=abc/def\nREDIS_URL=redis://:r@127.0.0.1:8/0\nBUYWHERE_API_KEY=bw_x1234\n',
    );
    const { target } = resolveFor('all', { RUNBOOK_STAGING_DIR: dir });
    expect(target.apiUrl).toBe('https://localhost:1');
    expect(target.apiLocalUrl).toBe('http://127.0.0.1:9');
    expect(new URL(target.databaseUrl!.reveal()).password).toBe('abc%2Fdef');
    expect(target.composeProject).toBe('p');
  });
});

describe('what each phase needs', () => {
  const remote = {
    RUNBOOK_STAGING_DIR: '/nonexistent/fresh-clone/.staging/buywhere-api',
    RUNBOOK_API_URL: 'https://staging.example.invalid',
    RUNBOOK_MCP_URL: 'https://mcp.staging.example.invalid',
    BUYWHERE_API_KEY: 'bw_ci_key_123456',
    RUNBOOK_DEPLOY_SHA: 'abc1234',
  };

  it('smoke and the gate run with the API and MCP URLs, the key and the build alone', () => {
    for (const phase of ['smoke', 'gonogo']) {
      const r = resolveTarget(remote);
      expect(() => requireSettings(r, phaseSettings[phase]!)).not.toThrow();
      expect(r.target.statedBuild).toBe('abc1234');
      expect(r.target.secretValues).toContain('bw_ci_key_123456');
    }
  });

  it('every other phase names every setting it lacks, at once', () => {
    for (const phase of ['preflight', 'deploy', 'rollback']) {
      const r = resolveTarget(remote);
      expect(() => requireSettings(r, phaseSettings[phase]!)).toThrow(
        /settings need fixing:[\s\S]*RUNBOOK_API_LOCAL_URL[\s\S]*RUNBOOK_BACKUPS_DIR/,
      );
    }
  });

  it('a setting the run never asked for throws its configuration error when read, and is never serialised', () => {
    const { target } = resolveTarget(remote);
    expect(() => target.backupsDir).toThrow(ConfigError);
    expect(() => target.backupsDir).toThrow(/RUNBOOK_BACKUPS_DIR/);
    expect(JSON.stringify(target)).not.toContain('backupsDir');
  });

  it('a malformed setting stops every phase, even one that does not read it', () => {
    const r = resolveTarget({ ...remote, RUNBOOK_DB_URL: 'not a url' });
    expect(() => requireSettings(r, phaseSettings.smoke!)).toThrow(/RUNBOOK_DB_URL/);
  });
});

describe('the run snapshot: resolved once, secrets by reference', () => {
  const env = {
    RUNBOOK_TARGET: 'production',
    BUYWHERE_API_KEY: prodEnv.BUYWHERE_API_KEY,
    RUNBOOK_DB_URL: 'postgresql://ops:db-pw-1234@db.internal:5432/catalog',
  };

  it('carries every plain setting and names each secret’s setting, holding no secret value', () => {
    const snap = snapshotSettings(resolveTarget(env));
    const text = JSON.stringify(snap);
    expect(text).not.toContain(prodEnv.BUYWHERE_API_KEY);
    expect(text).not.toContain('db-pw-1234');
    expect(snap.secrets).toEqual({
      apiKey: { setting: 'BUYWHERE_API_KEY' },
      databaseUrl: { setting: 'RUNBOOK_DB_URL' },
    });
    expect(snap.values.apiUrl).toBe('https://api.buywhere.ai');
    // Through structured cloning, as Vitest hands it to a worker, it is the same value.
    expect(structuredClone(snap)).toEqual(snap);
  });

  it('rebuilds the same target where the secrets are given, and reads each secret where it is given', () => {
    const resolved = resolveTarget(env).target;
    const rebuilt = targetFromSnapshot(structuredClone(snapshotSettings(resolveTarget(env))), env);
    for (const s of ['apiUrl', 'apiLocalUrl', 'projectDir', 'backupPattern', 'p99Samples', 'criticalServices'] as const)
      expect(rebuilt[s], s).toEqual(resolved[s]);
    expect(rebuilt.apiKey.reveal()).toBe(prodEnv.BUYWHERE_API_KEY);
    expect(rebuilt.databaseUrl?.reveal()).toContain('db-pw-1234');
    expect(rebuilt.redisUrl).toBeUndefined();
    expect(rebuilt.secretValues).toEqual(expect.arrayContaining([prodEnv.BUYWHERE_API_KEY, 'db-pw-1234']));
  });

  it('a secret gone from where it was given is an error naming its setting, never another value', () => {
    const snap = snapshotSettings(resolveTarget(env));
    const { BUYWHERE_API_KEY: _gone, ...without } = env;
    const rebuilt = targetFromSnapshot(snap, without);
    expect(() => rebuilt.apiKey).toThrow(ConfigError);
    expect(() => rebuilt.apiKey).toThrow(/BUYWHERE_API_KEY/);
  });

  it('a setting the run lacks stays an error in the rebuilt target, with its words', () => {
    const { BUYWHERE_API_KEY: _gone, ...without } = prodEnv;
    const resolved = resolveTarget({ ...without, RUNBOOK_P99_SAMPLES: 'many' });
    const rebuilt = targetFromSnapshot(snapshotSettings(resolved), without);
    const words = (read: () => unknown) => {
      try {
        read();
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(words(() => rebuilt.apiKey)).toBe(words(() => resolved.target.apiKey));
    expect(words(() => rebuilt.p99Samples)).toBe(words(() => resolved.target.p99Samples));
    expect(words(() => rebuilt.p99Samples)).toMatch(/RUNBOOK_P99_SAMPLES/);
  });
});
