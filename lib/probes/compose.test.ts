import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPluginDirs, composeArgs, composeFlavourFrom, type ComposeProject } from './compose';

const v2: ComposeProject = {
  flavour: 'v2',
  file: '/p/docker-compose.prod.yml',
  projectDir: '/p',
  projectName: 'buywhere-api',
};
const v1: ComposeProject = { ...v2, flavour: 'v1' };

describe('compose argument arrays', () => {
  it('build --parallel', () => {
    expect(composeArgs.build(v2)).toEqual([
      'docker',
      'compose',
      '--project-directory',
      '/p',
      '-p',
      'buywhere-api',
      '-f',
      '/p/docker-compose.prod.yml',
      'build',
      '--parallel',
    ]);
  });
  it('v1 uses docker-compose with the same arguments', () => {
    expect(composeArgs.up(v1, ['db', 'redis'])).toEqual([
      'docker-compose',
      '--project-directory',
      '/p',
      '-p',
      'buywhere-api',
      '-f',
      '/p/docker-compose.prod.yml',
      'up',
      '-d',
      '--no-deps',
      'db',
      'redis',
    ]);
  });
  it('run --rm passes environment by name only, so values never reach argv', () => {
    const argv = composeArgs.runRm(v2, 'migrate', ['alembic', 'downgrade', '0002'], ['ALEMBIC_TARGET']);
    expect(argv.slice(8)).toEqual([
      'run',
      '--rm',
      '-T',
      '-e',
      'ALEMBIC_TARGET',
      'migrate',
      'alembic',
      'downgrade',
      '0002',
    ]);
  });
  it('stop and down', () => {
    expect(composeArgs.stop(v2, ['api', 'mcp', 'scraper-scheduler']).slice(8)).toEqual([
      'stop',
      'api',
      'mcp',
      'scraper-scheduler',
    ]);
    expect(composeArgs.down(v2, true).slice(8)).toEqual(['down', '--remove-orphans', '-v']);
  });
});

describe('which Compose', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'compose-'));
  const put = (d: string, mode: number) => {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'docker-compose'), '#!/bin/sh\n');
    chmodSync(join(d, 'docker-compose'), mode);
    return d;
  };

  it('the v2 plugin where the Docker CLI finds it wins over v1 on PATH', () => {
    const plugins = put(join(dir(), 'cli-plugins'), 0o755);
    const bin = put(dir(), 0o755);
    expect(composeFlavourFrom(['/nonexistent', plugins], bin)).toBe('v2');
  });

  it('v1 when only docker-compose is on PATH; a file that is not executable does not count', () => {
    const plugins = put(join(dir(), 'cli-plugins'), 0o644);
    const bin = put(dir(), 0o755);
    expect(composeFlavourFrom([plugins], `/nonexistent:${bin}`)).toBe('v1');
  });

  it('neither: an error that says what was looked for', () => {
    expect(() => composeFlavourFrom(['/nonexistent/cli-plugins'], '/nonexistent')).toThrow(
      /neither the Docker Compose v2 plugin \(docker-compose in \/nonexistent\/cli-plugins\) nor docker-compose \(v1\) on PATH/,
    );
  });

  it('looks in $DOCKER_CONFIG (or ~/.docker) first, then the system plugin folders', () => {
    expect(cliPluginDirs({ DOCKER_CONFIG: '/cfg', HOME: '/home/bolt' })[0]).toBe('/cfg/cli-plugins');
    expect(cliPluginDirs({ HOME: '/home/bolt' })).toEqual([
      '/home/bolt/.docker/cli-plugins',
      '/usr/local/lib/docker/cli-plugins',
      '/usr/local/libexec/docker/cli-plugins',
      '/usr/lib/docker/cli-plugins',
      '/usr/libexec/docker/cli-plugins',
    ]);
  });
});
