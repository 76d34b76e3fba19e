import { describe, expect, it } from 'vitest';
import { composeArgs, type ComposeProject } from './compose';

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
