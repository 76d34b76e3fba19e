import { describe, expect, it } from 'vitest';
import { mountsUnder, registryConfig, rigPaths, workerArgs, workerEngine } from './nodes';

describe('the rig of a multi-node staging swarm', () => {
  const paths = rigPaths('/srv/x/.staging/buywhere-api');

  it('keeps every worker’s state under the staging directory, each on its own loopback address', () => {
    expect(paths.root).toBe('/srv/x/.staging/swarm-nodes');
    const w = workerEngine(paths, 2);
    expect(w).toMatchObject({ address: '127.0.0.3', dir: '/srv/x/.staging/swarm-nodes/node-3' });
    expect(w.reach.describe).toBe('unix:///srv/x/.staging/swarm-nodes/node-3/docker.sock');
  });

  it('starts each worker with state, socket and pid file of its own, and no bridge or iptables', () => {
    const args = workerArgs(workerEngine(paths, 1));
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(value('--data-root')).toBe('/srv/x/.staging/swarm-nodes/node-2/data');
    expect(value('--exec-root')).toBe('/srv/x/.staging/swarm-nodes/node-2/exec');
    expect(value('--pidfile')).toBe('/srv/x/.staging/swarm-nodes/node-2/docker.pid');
    expect(value('-H')).toBe('unix:///srv/x/.staging/swarm-nodes/node-2/docker.sock');
    expect(args).toEqual(expect.arrayContaining(['--bridge=none', '--iptables=false', '--ip-masq=false']));
  });

  it('the registry listens on loopback only, never on every address as the package’s default does', () => {
    const config = registryConfig('/r/data', 15000);
    expect(config).toMatch(/^ {2}addr: 127\.0\.0\.1:15000$/m);
    expect(config).not.toMatch(/addr: :/);
    expect(config).toMatch(/rootdirectory: \/r\/data/);
  });

  it('finds the mounts a stopped engine left under its folder, deepest first, and none outside it', () => {
    const mountinfo = [
      '36 25 0:32 / /srv/x/.staging/swarm-nodes/node-2/exec/netns/default rw shared:1 - nsfs nsfs rw',
      '37 25 0:33 / /srv/x/.staging/swarm-nodes/node-2/data/overlay2/abc/merged rw - overlay overlay rw',
      '38 25 0:34 / /srv/x/.staging/swarm-nodes/node-20/exec/netns/default rw - nsfs nsfs rw',
      '39 25 0:35 / /srv/x/.staging/swarm-nodes/node-2/exec rw - tmpfs tmpfs rw',
    ].join('\n');
    expect(mountsUnder('/srv/x/.staging/swarm-nodes/node-2', mountinfo)).toEqual([
      '/srv/x/.staging/swarm-nodes/node-2/data/overlay2/abc/merged',
      '/srv/x/.staging/swarm-nodes/node-2/exec/netns/default',
      '/srv/x/.staging/swarm-nodes/node-2/exec',
    ]);
  });
});
