// How the Docker engine is reached, read as the Docker CLI reads it (DOCKER_HOST, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH): a local socket, plain TCP, TCP with verified TLS, or ssh. The answer is one http.Agent that
// both clients use, the plain JSON calls of engine.ts and dockerode's streams, so they always reach the same
// engine the same way.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { isIP, connect as netConnect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { CouldNotCheck } from '../core/errors.js';

export interface EngineReach {
  /** Where the engine is, as an operator would write it; never a secret. */
  readonly describe: string;
  readonly agent: Agent;
}

export interface ReachOptions {
  /** An ssh_config file for ssh://, in place of the user's own (~/.ssh/config). */
  sshConfigFile?: string;
  /** How long ssh may take to connect, in seconds. */
  sshConnectTimeoutS?: number;
}

/** An agent that opens every connection its own way and keeps none: each engine call is one connection. */
class EngineAgent extends Agent {
  constructor(private readonly open: () => Duplex) {
    super({ keepAlive: false });
  }
  override createConnection(): Duplex {
    return this.open();
  }
}

function certFile(dir: string, name: string): Buffer {
  const path = join(dir, name);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CouldNotCheck(
      `DOCKER_TLS_VERIFY is set but ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): put the engine's CA and this client's certificate and key (ca.pem, cert.pem, key.pem) in DOCKER_CERT_PATH`,
    );
  }
}

/**
 * ssh runs `docker system dial-stdio` on the engine's host, as the Docker CLI does, and its stdin and stdout carry
 * the connection. BatchMode: a password prompt would wait for ever, so a key the agent or ssh_config names is the
 * only way in. The stream ends only once ssh has exited, so a refusal (a key or host key not accepted) becomes the
 * connection's error, in ssh's words, rather than a bare hang-up.
 */
class SshConnection extends Duplex {
  private readonly child: ChildProcessWithoutNullStreams;
  private idle?: NodeJS.Timeout;
  private idleMs = 0;

  constructor(args: string[]) {
    super();
    this.child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    this.child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString('utf8');
    });
    this.child.stdout.on('data', (c: Buffer) => {
      this.touch();
      if (!this.push(c)) this.child.stdout.pause();
    });
    this.child.stdin.on('error', () => {}); // ssh gone: its exit says why
    this.child.on('error', (err) => this.destroy(new Error(`ssh could not start: ${err.message}`)));
    this.child.on('close', (code, signal) => {
      if (code === 0 || this.destroyed) return this.push(null);
      const said = stderr.trim().split('\n').at(-1) ?? '';
      this.destroy(new Error(`ssh to the engine's host ended (${code ?? signal})${said ? `: ${said}` : ''}`));
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.touch();
    this.child.stdin.write(chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.child.stdin.end(done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    clearTimeout(this.idle);
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    done(err);
  }

  // What node:http asks of a socket: an idle timeout, and no-ops for the TCP-only knobs.
  setTimeout(ms: number, onTimeout?: () => void): this {
    this.idleMs = ms;
    if (onTimeout) this.once('timeout', onTimeout);
    this.touch();
    return this;
  }
  private touch(): void {
    clearTimeout(this.idle);
    if (this.idleMs > 0) this.idle = setTimeout(() => this.emit('timeout'), this.idleMs);
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

function sshReach(url: URL, opts: ReachOptions): EngineReach {
  if (url.password)
    throw new CouldNotCheck(
      'DOCKER_HOST holds an ssh password: ssh:// takes a key (ssh-agent or ssh_config), never a password',
    );
  if (url.pathname && url.pathname !== '/')
    throw new CouldNotCheck(`DOCKER_HOST=ssh://…${url.pathname}: a path is not supported; name the host only`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const args = ['-o', 'BatchMode=yes', '-o', `ConnectTimeout=${opts.sshConnectTimeoutS ?? 10}`];
  if (opts.sshConfigFile) args.push('-F', opts.sshConfigFile);
  if (url.port) args.push('-p', url.port);
  if (url.username) args.push('-l', decodeURIComponent(url.username));
  args.push('--', host, 'docker', 'system', 'dial-stdio');
  const who = url.username ? `${url.username}@` : '';
  return {
    describe: `ssh://${who}${url.host}`,
    agent: new EngineAgent(() => new SshConnection(args)),
  };
}

function tcpReach(url: URL, env: NodeJS.ProcessEnv): EngineReach {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (env.DOCKER_TLS && !env.DOCKER_TLS_VERIFY)
    throw new CouldNotCheck(
      "DOCKER_TLS is set without DOCKER_TLS_VERIFY: the engine's certificate would go unchecked; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH",
    );
  if (!env.DOCKER_TLS_VERIFY) {
    const port = Number(url.port || 2375);
    return {
      describe: `tcp://${url.hostname}:${port}`,
      agent: new EngineAgent(() => netConnect({ host, port })),
    };
  }
  const port = Number(url.port || 2376);
  const dir = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  const tls = { ca: certFile(dir, 'ca.pem'), cert: certFile(dir, 'cert.pem'), key: certFile(dir, 'key.pem') };
  return {
    describe: `tcp://${url.hostname}:${port} (TLS, verified against ${join(dir, 'ca.pem')})`,
    // A name, not an address, is what SNI carries; an address is checked against the certificate's IP entries.
    agent: new EngineAgent(() =>
      tlsConnect({ host, port, ...tls, servername: isIP(host) ? undefined : host, rejectUnauthorized: true }),
    ),
  };
}

/** Where the engine listens and how to get there: DOCKER_HOST first, then the default socket. */
export function engineReach(env: NodeJS.ProcessEnv = process.env, opts: ReachOptions = {}): EngineReach {
  const raw = env.DOCKER_HOST;
  if (!raw) {
    const socketPath = env.DOCKER_SOCKET ?? '/var/run/docker.sock';
    return { describe: `unix://${socketPath}`, agent: new EngineAgent(() => netConnect({ path: socketPath })) };
  }
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `tcp://${raw}`);
  } catch {
    throw new CouldNotCheck(`DOCKER_HOST is not an address (unix://, tcp://, ssh://): it could not be read`);
  }
  switch (url.protocol) {
    case 'unix:': {
      const socketPath = url.pathname || '/var/run/docker.sock';
      return { describe: `unix://${socketPath}`, agent: new EngineAgent(() => netConnect({ path: socketPath })) };
    }
    case 'tcp:':
    case 'http:':
      return tcpReach(url, env);
    case 'ssh:':
      return sshReach(url, opts);
    default:
      throw new CouldNotCheck(`DOCKER_HOST=${url.protocol}//…: only unix://, tcp:// and ssh:// are supported`);
  }
}

let fromEnv: EngineReach | undefined;
/** The reach this process's environment names, worked out once. */
export function defaultReach(): EngineReach {
  fromEnv ??= engineReach();
  return fromEnv;
}
