// How DOCKER_HOST and its TLS settings are read. Each scheme's real connection is tested against this machine's
// engine in test/engine-reach.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CouldNotCheck } from '../core/errors';
import { engineReach } from './engine-reach';

const refusal = (env: NodeJS.ProcessEnv): string => {
  try {
    engineReach(env);
  } catch (err) {
    expect(err).toBeInstanceOf(CouldNotCheck);
    return (err as Error).message;
  }
  throw new Error(`engineReach(${JSON.stringify(env)}) was accepted`);
};

describe('engineReach(): where the engine is, as the Docker CLI reads it', () => {
  it('defaults to the standard socket, or DOCKER_SOCKET', () => {
    expect(engineReach({}).describe).toBe('unix:///var/run/docker.sock');
    expect(engineReach({ DOCKER_SOCKET: '/run/d.sock' }).describe).toBe('unix:///run/d.sock');
  });

  it('reads unix://, tcp:// and a bare host:port from DOCKER_HOST', () => {
    expect(engineReach({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }).describe).toBe(
      'unix:///run/user/1000/docker.sock',
    );
    expect(engineReach({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }).describe).toBe('tcp://127.0.0.1:2375');
    expect(engineReach({ DOCKER_HOST: '127.0.0.1:2380' }).describe).toBe('tcp://127.0.0.1:2380');
    expect(engineReach({ DOCKER_HOST: 'tcp://127.0.0.1' }).describe).toBe('tcp://127.0.0.1:2375');
  });

  it('reads ssh:// with its user and port', () => {
    expect(engineReach({ DOCKER_HOST: 'ssh://ops@prod-1:2222' }).describe).toBe('ssh://ops@prod-1:2222');
    expect(engineReach({ DOCKER_HOST: 'ssh://prod-1' }).describe).toBe('ssh://prod-1');
  });

  it('with DOCKER_TLS_VERIFY, reads the three files of DOCKER_CERT_PATH and defaults to port 2376', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certs-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), 'x');
    const reach = engineReach({ DOCKER_HOST: 'tcp://10.0.0.5', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
    expect(reach.describe).toBe(`tcp://10.0.0.5:2376 (TLS, verified against ${join(dir, 'ca.pem')})`);
  });

  it('a missing certificate file is named, with what to put where', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certs-'));
    writeFileSync(join(dir, 'ca.pem'), 'x');
    writeFileSync(join(dir, 'cert.pem'), 'x');
    const said = refusal({ DOCKER_HOST: 'tcp://10.0.0.5', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
    expect(said).toContain(join(dir, 'key.pem'));
    expect(said).toMatch(/ENOENT/);
    expect(said).toMatch(/DOCKER_CERT_PATH/);
  });

  it('refuses TLS that would not check the engine’s certificate', () => {
    expect(refusal({ DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_TLS: '1' })).toMatch(/DOCKER_TLS_VERIFY/);
  });

  it('refuses an ssh password and a path, never repeating the password', () => {
    const said = refusal({ DOCKER_HOST: 'ssh://ops:s3cr3t-pw@prod-1' });
    expect(said).toMatch(/never a password/);
    expect(said).not.toContain('s3cr3t-pw');
    expect(refusal({ DOCKER_HOST: 'ssh://ops@prod-1/var/run/docker.sock' })).toMatch(/a path is not supported/);
  });

  it('refuses a scheme it cannot speak, and an address it cannot read', () => {
    expect(refusal({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' })).toMatch(/only unix:\/\/, tcp:\/\/ and ssh:\/\//);
    expect(refusal({ DOCKER_HOST: 'tcp://[not-an-address' })).toMatch(/could not be read/);
  });
});
