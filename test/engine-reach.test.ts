// The engine reached each way an operator reaches a host's engine: its socket, plain TCP, TCP with verified TLS,
// and ssh. Behind each is this machine's real engine: a TCP or TLS listener in this process forwards to its
// socket, and a real sshd on loopback runs `docker system dial-stdio`. Both clients, the JSON calls and
// dockerode's streams, go the same way.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as netServer, connect as netConnect, type AddressInfo, type Server } from 'node:net';
import { createServer as tlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCouldNotCheck } from '../lib/core/errors';
import { engine } from '../lib/probes/engine';
import { engineReach, type EngineReach } from '../lib/probes/engine-reach';
import { dockerOver } from '../lib/probes/docker';
import { execIn } from '../lib/probes/in-container';
import { oneOffLabel } from '../lib/probes/oneoff';
import { readStagingEnv } from '../staging/project';
import { waitUntil } from '../lib/core/wait';
import { ensureCa, issueServerCert } from '../staging/tls';

const socket = '/var/run/docker.sock';
const dir = mkdtempSync(join(tmpdir(), 'engine-reach-'));
const servers: Server[] = [];
let sshd: ChildProcess | undefined;

/** A listener on a free loopback port that pipes every connection to the engine's socket. */
async function forwarder(make: (onConn: (c: NodeJS.ReadWriteStream) => void) => Server): Promise<number> {
  const server = make((c) => {
    const up = netConnect(socket);
    c.pipe(up).pipe(c);
    up.on('error', () => (c as unknown as { destroy(): void }).destroy());
    c.on('error', () => up.destroy());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const version = (reach: EngineReach) => engine<{ Version: string }>('/version', { timeoutMs: 15_000 }, reach);
let local: string;

beforeAll(async () => {
  local = (await version(engineReach({ DOCKER_HOST: `unix://${socket}` }))).Version;
});

afterAll(() => {
  for (const s of servers) s.close();
  sshd?.kill('SIGTERM');
});

/** Both clients over one reach: a JSON call, and a dockerode stream that ends (events up to now). */
async function bothClients(reach: EngineReach) {
  expect((await version(reach)).Version).toBe(local);
  const d = await dockerOver(reach);
  expect((await d.version()).Version).toBe(local);
  const now = Math.floor(Date.now() / 1000);
  const events = (await d.getEvents({ since: now - 1, until: now })) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    events.on('end', resolve).on('error', reject);
    events.resume();
  });
}

const refusal = async (p: Promise<unknown>): Promise<string> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call is refused').toBeInstanceOf(Error);
  return (err as Error).message;
};

describe('unix:// and plain tcp://', () => {
  it('the socket named in DOCKER_HOST', async () => {
    await bothClients(engineReach({ DOCKER_HOST: `unix://${socket}` }));
  });
  it('an engine on a TCP port', async () => {
    const port = await forwarder((h) => netServer(h));
    await bothClients(engineReach({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }));
  });
});

describe('tcp:// with DOCKER_TLS_VERIFY: both ends are checked', () => {
  const good = join(dir, 'good');
  const other = join(dir, 'other');
  let port: number;

  beforeAll(async () => {
    const ca = join(dir, 'ca');
    await ensureCa(ca);
    await issueServerCert(ca, { days: 2, hosts: ['127.0.0.1'], outDir: join(dir, 'server') });
    await issueServerCert(ca, { days: 2, hosts: ['ops'], outDir: good, usage: 'clientAuth' });
    // DOCKER_CERT_PATH's names, as the Docker CLI reads them.
    writeFileSync(join(good, 'ca.pem'), readFileSync(join(ca, 'ca.crt')));
    writeFileSync(join(good, 'cert.pem'), readFileSync(join(good, 'server.crt')));
    writeFileSync(join(good, 'key.pem'), readFileSync(join(good, 'server.key')));
    // A second CA: the same client files, trusting a CA that did not sign the engine's certificate.
    const otherCa = join(dir, 'other-ca');
    await ensureCa(otherCa);
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'ca.pem'), readFileSync(join(otherCa, 'ca.crt')));
    for (const f of ['cert.pem', 'key.pem']) writeFileSync(join(other, f), readFileSync(join(good, f)));
    port = await forwarder((h) =>
      tlsServer(
        {
          cert: readFileSync(join(dir, 'server', 'server.crt')),
          key: readFileSync(join(dir, 'server', 'server.key')),
          ca: readFileSync(join(ca, 'ca.crt')),
          requestCert: true,
          rejectUnauthorized: true,
        },
        h,
      ),
    );
  });

  it('reaches the engine with the CA, certificate and key in DOCKER_CERT_PATH', async () => {
    const reach = engineReach({
      DOCKER_HOST: `tcp://127.0.0.1:${port}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: good,
    });
    expect(reach.describe).toContain('TLS, verified');
    await bothClients(reach);
  });

  it('refuses an engine whose certificate the trusted CA did not sign', async () => {
    const reach = engineReach({
      DOCKER_HOST: `tcp://127.0.0.1:${port}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: other,
    });
    expect(await refusal(version(reach))).toMatch(/certificate/i);
  });

  it('plain HTTP to the TLS port gets no answer it takes for the engine’s', async () => {
    const err = await refusal(version(engineReach({ DOCKER_HOST: `tcp://127.0.0.1:${port}` })));
    expect(err).not.toBe('');
  });
});

describe('ssh://: docker system dial-stdio on the host, through a real sshd', () => {
  let port: number;
  let config: string;

  beforeAll(async () => {
    const d = join(dir, 'ssh');
    mkdirSync(d, { mode: 0o700 });
    const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    keygen(join(d, 'host_key'));
    keygen(join(d, 'ops_key'));
    keygen(join(d, 'stranger_key'));
    writeFileSync(join(d, 'authorized_keys'), readFileSync(join(d, 'ops_key.pub')));
    chmodSync(join(d, 'authorized_keys'), 0o600);
    // A free port for sshd: take one from the kernel, then give it back.
    const probe = netServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    writeFileSync(
      join(d, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(d, 'host_key')}`,
        `AuthorizedKeysFile ${join(d, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'StrictModes no',
        'PidFile none',
        `SetEnv PATH=${process.env.PATH}`,
      ].join('\n') + '\n',
    );
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(d, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const daemon = sshd;
    let said = '';
    daemon.stderr!.on('data', (c: Buffer) => (said += c.toString()));
    await waitUntil(
      async () =>
        said.includes('Server listening')
          ? { ready: true as const, value: undefined }
          : {
              ready: false as const,
              last: said.trim() || 'nothing said yet',
              fatal: daemon.exitCode === null ? undefined : new Error(`sshd ended: ${said.trim()}`),
            },
      {
        what: `sshd listening on 127.0.0.1:${port}`,
        timeoutMs: 10_000,
        wake: (poll) => {
          daemon.stderr!.on('data', poll);
          return () => daemon.stderr!.off('data', poll);
        },
      },
    );
    writeFileSync(join(d, 'known_hosts'), `[127.0.0.1]:${port} ${readFileSync(join(d, 'host_key.pub'), 'utf8')}`);
    const client = (key: string) =>
      [
        'Host *',
        `  IdentityFile ${join(d, key)}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${join(d, 'known_hosts')}`,
        '  StrictHostKeyChecking yes',
      ].join('\n') + '\n';
    config = join(d, 'ssh_config');
    writeFileSync(config, client('ops_key'));
    writeFileSync(join(d, 'stranger_config'), client('stranger_key'));
  });

  const over = (configFile: string, host = `ssh://root@127.0.0.1:${port}`) =>
    engineReach({ DOCKER_HOST: host }, { sshConfigFile: configFile, sshConnectTimeoutS: 5 });

  it('reaches the engine with the operator’s key, and streams work over it', async () => {
    const reach = over(config);
    expect(reach.describe).toBe(`ssh://root@127.0.0.1:${port}`);
    await bothClients(reach);
  });

  it('runs a client inside a container over ssh, as the data-service checks do (hijacked exec)', async () => {
    const reach = over(config);
    const created = await engine<{ Id: string }>(
      '/containers/create',
      {
        method: 'POST',
        body: {
          Image: readStagingEnv().get('BASE_IMAGE'),
          Cmd: ['sleep', '120'],
          Labels: { [oneOffLabel]: 'engine-reach test' },
          HostConfig: { NetworkMode: 'none' },
        },
      },
      reach,
    );
    try {
      await engine(`/containers/${created.Id}/start`, { method: 'POST' }, reach);
      const r = await execIn(
        { id: created.Id, name: 'scratch', env: new Map() },
        ['sh', '-c', 'echo out; echo err >&2; exit 4'],
        {
          timeoutMs: 15_000,
          client: await dockerOver(reach),
        },
      );
      expect(r).toEqual({ exitCode: 4, stdout: 'out\n', stderr: 'err\n' });
    } finally {
      await engine(`/containers/${created.Id}`, { method: 'DELETE', query: { force: true } });
    }
  });

  it('a key the host does not know is refused, with ssh’s reason', async () => {
    expect(await refusal(version(over(join(dir, 'ssh', 'stranger_config'))))).toMatch(/Permission denied/);
  });

  it('a host key that is not the one known is refused: no engine is trusted on its say-so', async () => {
    writeFileSync(
      join(dir, 'ssh', 'known_hosts_wrong'),
      `[127.0.0.1]:${port} ${readFileSync(join(dir, 'ssh', 'ops_key.pub'), 'utf8')}`,
    );
    const wrong = join(dir, 'ssh', 'wrong_config');
    writeFileSync(wrong, readFileSync(config, 'utf8').replace(/known_hosts$/m, 'known_hosts_wrong'));
    expect(await refusal(version(over(wrong)))).toMatch(/host key|Host key verification failed/i);
  });

  it('an ssh password in DOCKER_HOST is refused before anything runs, and the password is never repeated', () => {
    let said = '';
    try {
      engineReach({ DOCKER_HOST: 'ssh://root:hunter2-secret@127.0.0.1:22' });
    } catch (err) {
      expect(isCouldNotCheck(err)).toBe(true);
      said = (err as Error).message;
    }
    expect(said).toMatch(/never a password/);
    expect(said).not.toContain('hunter2-secret');
  });
});
