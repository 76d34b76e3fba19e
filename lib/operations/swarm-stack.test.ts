import { describe, expect, it } from 'vitest';
import { stackVar, stackVariables, tagOf } from './swarm-stack';

describe('the Swarm override variables', () => {
  it('name a service replicas and tag in upper snake case', () => {
    expect(stackVar('api', 'TAG')).toBe('API_TAG');
    expect(stackVar('db_replica', 'REPLICAS')).toBe('DB_REPLICA_REPLICAS');
    expect(stackVar('scraper-scheduler', 'REPLICAS')).toBe('SCRAPER_SCHEDULER_REPLICAS');
  });

  it('read the tag of a stack image, with or without the digest a stack pins, and no tag from a registry port', () => {
    expect(tagOf('buywhere-api:sha-1a2b3c4')).toBe('sha-1a2b3c4');
    expect(tagOf(`buywhere-api:sha-1a2b3c4@sha256:${'a'.repeat(64)}`)).toBe('sha-1a2b3c4');
    expect(tagOf('registry:5000/buywhere-api')).toBeUndefined();
    expect(tagOf('registry:5000/buywhere-api:sha-9')).toBe('sha-9');
    expect(tagOf(undefined)).toBeUndefined();
  });
});

describe('stackVariables', () => {
  const current = [
    { service: 'db', replicas: 1, tag: 'bookworm' },
    { service: 'api', replicas: 2, tag: 'sha-old' },
    { service: 'mcp', replicas: 0, tag: 'sha-old' },
    { service: 'backup-cron', replicas: 1, tag: undefined },
  ];

  it('keeps every service as it runs when the deploy names none', () => {
    expect(stackVariables(current, { services: [] })).toEqual({
      DB_REPLICAS: '1',
      DB_TAG: 'bookworm',
      API_REPLICAS: '2',
      API_TAG: 'sha-old',
      MCP_REPLICAS: '0',
      MCP_TAG: 'sha-old',
      BACKUP_CRON_REPLICAS: '1',
    });
  });

  it('starts the services named, at the tag asked for, and keeps a service scaled out at its replicas', () => {
    const v = stackVariables(current, { services: ['api', 'mcp'], tags: { api: 'sha-new', mcp: 'sha-new' } });
    expect(v).toMatchObject({ API_REPLICAS: '2', API_TAG: 'sha-new', MCP_REPLICAS: '1', MCP_TAG: 'sha-new' });
    expect(v).toMatchObject({ DB_REPLICAS: '1', BACKUP_CRON_REPLICAS: '1' });
  });

  it('on an empty stack starts only what is named: the rest has no variable and the override starts nothing', () => {
    expect(stackVariables([], { services: ['db', 'redis'] })).toEqual({ DB_REPLICAS: '1', REDIS_REPLICAS: '1' });
  });

  it('a tag for a service not started changes its image but not its replicas', () => {
    expect(stackVariables(current, { services: [], tags: { mcp: 'sha-new' } })).toMatchObject({
      MCP_REPLICAS: '0',
      MCP_TAG: 'sha-new',
    });
  });
});
