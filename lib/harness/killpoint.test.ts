import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { armedKillPoint, killPointEnv } from './killpoint';

function stagingDir(adminEnabled: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'kp-'));
  mkdirSync(join(dir, 'tls'));
  writeFileSync(join(dir, 'tls', 'ca.crt'), 'PEM');
  writeFileSync(
    join(dir, '.env'),
    `API_PORT=1\nMCP_PORT=2\nDB_PORT=3\nDB_REPLICA_PORT=4\nPGBOUNCER_PORT=5\nPROMETHEUS_PORT=6\nALERTMANAGER_PORT=7\nAPI_ADMIN_PORT=9\nPOSTGRES_PASSWORD=p\nREDIS_URL=redis://:r@127.0.0.1:8/0\nBUYWHERE_API_KEY=bw_x1234\n${adminEnabled ? 'ADMIN_ENABLED=1\n' : ''}`,
  );
  return dir;
}

describe('kill points', () => {
  it('hold on staging with its admin switch on', () => {
    expect(armedKillPoint({ RUNBOOK_STAGING_DIR: stagingDir(true), [killPointEnv]: 'deploy step 4' })).toBe(
      'deploy step 4',
    );
  });

  it('are inert on staging with the admin switch off', () => {
    expect(armedKillPoint({ RUNBOOK_STAGING_DIR: stagingDir(false), [killPointEnv]: 'deploy step 4' })).toBeNull();
  });

  it('are inert on production, whatever the environment says', () => {
    const env = {
      RUNBOOK_TARGET: 'production',
      RUNBOOK_STAGING_DIR: stagingDir(true),
      RUNBOOK_DB_URL: 'postgresql://u:p@127.0.0.1:5432/catalog',
      RUNBOOK_REPLICA_URL: 'postgresql://u:p@127.0.0.1:5433/catalog',
      RUNBOOK_PGBOUNCER_ADMIN_URL: 'postgresql://u:p@127.0.0.1:6432/pgbouncer',
      RUNBOOK_REDIS_URL: 'redis://:p@127.0.0.1:6379/0',
      BUYWHERE_API_KEY: 'bw_live_1234',
      ADMIN_ENABLED: '1',
      [killPointEnv]: 'rollback step 3',
    };
    expect(armedKillPoint(env)).toBeNull();
  });

  it('are inert when the target does not resolve, and when none is named', () => {
    expect(armedKillPoint({ RUNBOOK_STAGING_DIR: '/nonexistent', [killPointEnv]: 'deploy step 1' })).toBeNull();
    expect(armedKillPoint({ RUNBOOK_STAGING_DIR: stagingDir(true) })).toBeNull();
  });
});
