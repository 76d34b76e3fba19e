import { describe, expect, it } from 'vitest';
import {
  EngineRolledBack,
  judgeConvergence,
  namedNodes,
  stackVar,
  stackVariables,
  tagOf,
  pinnedTagOf,
  atScale,
  type SwarmService,
  type SwarmTask,
} from './swarm-stack';

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

  it('pinnedTagOf keeps the digest a stack pins, so the next deploy names the same bytes', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    expect(pinnedTagOf(`127.0.0.1:15000/buywhere-api:sha-9@${digest}`)).toBe(`sha-9@${digest}`);
    expect(pinnedTagOf('buywhere-api:sha-9')).toBe('sha-9');
    expect(pinnedTagOf(`buywhere-api@${digest}`)).toBeUndefined();
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

describe('judgeConvergence', () => {
  const since = Date.parse('2026-11-29T10:00:00Z');
  const at = (s: number) => new Date(since + s * 1000).toISOString();
  const good = { id: `sha256:${'a'.repeat(64)}`, ref: 'buywhere-api:sha-good' };
  const bad = { id: `sha256:${'b'.repeat(64)}`, ref: 'buywhere-api:sha-bad' };
  const service = (update?: SwarmService['UpdateStatus'], replicas = 1): SwarmService => ({
    ID: 'svc1',
    Spec: {
      Name: 'buywhere-api_api',
      Mode: { Replicated: { Replicas: replicas } },
      TaskTemplate: { ContainerSpec: { Image: `buywhere-api:sha-good@sha256:${'c'.repeat(64)}` } },
    },
    UpdateStatus: update,
  });
  const task = (id: string, state: string, createdAfter = 1, desired = 'running'): SwarmTask => ({
    ID: id,
    ServiceID: 'svc1',
    Slot: 1,
    DesiredState: desired,
    CreatedAt: at(createdAfter),
    Status: { State: state, Err: state === 'failed' ? 'task: non-zero exit (1)' : undefined },
    Spec: {},
  });
  const view = (
    svc: SwarmService | undefined,
    tasks: SwarmTask[],
    containers: Record<string, { image: string; health?: string }> = {},
  ) => ({ name: 'api', stack: 'buywhere-api', service: svc, tasks, containers: new Map(Object.entries(containers)) });

  it('converged: every replica runs, healthy, at the image asked for, and the update completed', () => {
    const v = view(service({ State: 'completed', StartedAt: at(1) }), [task('t1', 'running')], {
      t1: { image: good.id, health: 'healthy' },
    });
    expect(judgeConvergence(v, since, good)).toEqual({ waiting: [] });
  });

  it('a service without a health check converges once it runs', () => {
    const v = view(service(), [task('t1', 'running')], { t1: { image: good.id } });
    expect(judgeConvergence(v, since, good).waiting).toEqual([]);
  });

  it('waits while an update or the engine rollback is under way, whoever started it', () => {
    for (const State of ['updating', 'rollback_started'])
      for (const StartedAt of [at(-600), at(1)]) {
        const v = view(service({ State, StartedAt, Message: 'update paused due to failure' }), [], {});
        const r = judgeConvergence(v, since, good);
        expect(r.fatal).toBeUndefined();
        expect(r.waiting.join()).toMatch(State === 'updating' ? /api: updating/ : /engine is rolling back/);
      }
  });

  it('an update of this deploy the engine rolled back is fatal, naming the image it undid and the one running again', () => {
    const v = view(
      service({ State: 'rollback_completed', StartedAt: at(2), Message: 'rollback completed' }),
      [task('t1', 'running')],
      { t1: { image: good.id, health: 'healthy' } },
    );
    const r = judgeConvergence(v, since, bad);
    expect(r.fatal).toBeInstanceOf(EngineRolledBack);
    expect(r.fatal?.message).toBe(
      "the engine rolled back api's update to buywhere-api:sha-bad: rollback completed; api runs buywhere-api:sha-good again",
    );
  });

  it('a rollback or pause left by an earlier deploy is history: the tasks decide', () => {
    for (const State of ['rollback_completed', 'paused']) {
      const v = view(service({ State, StartedAt: at(-600) }), [task('t1', 'running')], {
        t1: { image: good.id, health: 'healthy' },
      });
      expect(judgeConvergence(v, since, good)).toEqual({ waiting: [] });
    }
  });

  it('a paused update of this deploy is fatal', () => {
    const v = view(service({ State: 'paused', StartedAt: at(1), Message: 'update paused due to failure' }), [], {});
    expect(judgeConvergence(v, since, good).fatal?.message).toBe(
      "the engine paused api's update: update paused due to failure",
    );
  });

  it('a task started since that failed keeps it waiting; one that failed before (stopped by rollback step 1) does not', () => {
    const running = task('t2', 'running');
    const containers = { t2: { image: good.id, health: 'healthy' } };
    const fresh = judgeConvergence(
      view(service(), [task('t1', 'failed', 1, 'shutdown'), running], containers),
      since,
      good,
    );
    expect(fresh.waiting).toEqual(['api.1 failed: task: non-zero exit (1)']);
    const old = judgeConvergence(
      view(service(), [task('t0', 'failed', -30, 'shutdown'), running], containers),
      since,
      good,
    );
    expect(old.waiting).toEqual([]);
  });

  it('waits for every replica, for health, and for the image asked for', () => {
    expect(judgeConvergence(view(service(undefined, 2), [task('t1', 'running')]), since).waiting).toEqual([
      'api: 1 of 2 running',
    ]);
    expect(
      judgeConvergence(view(service(), [task('t1', 'running')], { t1: { image: good.id, health: 'starting' } }), since)
        .waiting,
    ).toEqual(['api.1: starting']);
    expect(
      judgeConvergence(
        view(service(), [task('t1', 'running')], { t1: { image: good.id, health: 'healthy' } }),
        since,
        bad,
      ).waiting,
    ).toEqual([`api.1: runs aaaaaaaaaaaa, not buywhere-api:sha-bad (bbbbbbbbbbbb)`]);
    expect(judgeConvergence(view(service(), [task('t1', 'running')]), since).waiting).toEqual([
      'api.1: no container to inspect yet',
    ]);
  });

  it("nodes are named by their spec's name, else their hostname; nodes sharing a name also by id", () => {
    const nodes = namedNodes([
      { ID: 'a0123456789abcdef', Description: { Hostname: 'box' }, Status: { State: 'ready', Addr: '127.0.0.1' } },
      { ID: 'b0123456789abcdef', Description: { Hostname: 'box' }, Status: { State: 'down', Addr: '127.0.0.1' } },
      { ID: 'c', Description: { Hostname: 'box' }, Spec: { Name: 'node-3 (127.0.0.3)' } },
      { ID: 'd', Description: { Hostname: 'db-1' }, Status: { State: 'ready' } },
      { ID: 'e0123456789abcdef' },
    ]);
    expect([...nodes.values()].map((n) => `${n.name}: ${n.state}`)).toEqual([
      'box (a0123456789a): ready',
      'box (b0123456789a): down',
      'node-3 (127.0.0.3): unknown',
      'db-1: ready',
      'e0123456789a: unknown',
    ]);
  });

  describe('on several nodes', () => {
    const node = (name: string, state: string, role = 'worker') => ({ name, state, availability: 'active', role });
    const nodes = new Map([
      ['n1', node('manager', 'ready', 'manager')],
      ['n2', node('worker-2', 'ready')],
      ['n3', node('worker-3', 'down')],
    ]);
    const digest = `sha256:${'d'.repeat(64)}`;
    const pinnedImage = { id: good.id, ref: `127.0.0.1:15000/buywhere-api:sha-good@${digest}` };
    const on = (id: string, nodeId: string, slot: number, state = 'running'): SwarmTask => ({
      ...task(id, state),
      Slot: slot,
      NodeID: nodeId,
    });
    const remote = (...ids: string[]) => new Map(ids.map((id) => [id, { onNode: 'n', digest }]));
    const twoOn = (tasks: SwarmTask[], update?: SwarmService['UpdateStatus']) => ({
      ...view(service(update, 2), tasks),
      containers: remote(...tasks.map((x) => x.ID)),
      nodes,
    });

    it('an update held up by a lost node names the node, its state and the task waiting there', () => {
      const r = judgeConvergence(
        twoOn([on('t1', 'n2', 1), on('t2', 'n3', 2)], { State: 'updating', StartedAt: at(1) }),
        since,
        pinnedImage,
      );
      expect(r.waiting).toEqual(['api: updating (api.2 on node worker-3, which is down: running)']);
    });

    it('a stop-first update waiting on a lost node to stop the old task names both tasks of the slot', () => {
      const old = { ...on('t2', 'n3', 2), DesiredState: 'shutdown' };
      const next = { ...on('t3', 'n3', 2, 'assigned'), DesiredState: 'ready' };
      const r = judgeConvergence(
        twoOn([on('t1', 'n2', 1), old, next], { State: 'updating', StartedAt: at(1) }),
        since,
        pinnedImage,
      );
      expect(r.waiting).toEqual([
        'api: updating (api.2 on node worker-3, which is down: running, to be stopped; api.2 on node worker-3, which is down: assigned, to be started next)',
      ]);
    });

    it('a task the engine still lists as running on a lost node is no replica: the service waits, naming it, never converges on it', () => {
      const r = judgeConvergence(twoOn([on('t1', 'n2', 1), on('t2', 'n3', 2)]), since, pinnedImage);
      expect(r.waiting).toEqual(['api: 1 of 2 running (api.2 on node worker-3, which is down: running)']);
    });

    it('a task placed on a ready node but not yet running is named with its node; both running on ready nodes converge', () => {
      const r = judgeConvergence(twoOn([on('t1', 'n2', 1), on('t2', 'n2', 2, 'preparing')]), since, pinnedImage);
      expect(r.waiting).toEqual(['api: 1 of 2 running (api.2 on node worker-2: preparing)']);
      expect(judgeConvergence(twoOn([on('t1', 'n2', 1), on('t2', 'n1', 2)]), since, pinnedImage)).toEqual({
        waiting: [],
      });
    });

    it('a node the swarm no longer lists vouches for nothing either', () => {
      const r = judgeConvergence(twoOn([on('t1', 'n2', 1), on('t2', 'gone', 2)]), since, pinnedImage);
      expect(r.waiting).toEqual(['api: 1 of 2 running (api.2 on node gone: running)']);
    });

    it('a task on another node is known by its pinned digest, named with its node', () => {
      const v = { ...twoOn([on('t1', 'n2', 1), on('t2', 'n1', 2)]), containers: remote('t1', 't2') };
      const other = { id: bad.id, ref: `127.0.0.1:15000/buywhere-api:sha-bad@sha256:${'e'.repeat(64)}` };
      expect(judgeConvergence(v, since, other).waiting[0]).toBe(
        `api.1 on node worker-2: runs ${digest}, not ${other.ref}`,
      );
    });
  });

  it('a service missing from the stack is waited for, named', () => {
    expect(judgeConvergence(view(undefined, []), since).waiting).toEqual([
      'api: no such service in stack buywhere-api',
    ]);
  });

  it('a task told to stop still running is no replica: a scaled-down service with one draining task converges at zero', () => {
    const v = view(service(undefined, 0), [task('t1', 'running', -10, 'shutdown')]);
    expect(judgeConvergence(v, since).waiting).toEqual([]);
  });
});

describe('atScale: a started service runs at least its scale from the .env', () => {
  const dotenv = new Map([['API_SCALE', '2']]);
  it('raises a started or running service to its scale, and never lowers one', () => {
    expect(atScale({ API_REPLICAS: '1', DB_REPLICAS: '1' }, dotenv)).toEqual({ API_REPLICAS: '2', DB_REPLICAS: '1' });
    expect(atScale({ API_REPLICAS: '3' }, dotenv)).toEqual({ API_REPLICAS: '3' });
  });
  it('leaves a stopped service stopped, and ignores a scale that is not a number', () => {
    expect(atScale({ API_REPLICAS: '0' }, dotenv)).toEqual({ API_REPLICAS: '0' });
    expect(atScale({ API_REPLICAS: '1' }, new Map([['API_SCALE', 'two']]))).toEqual({ API_REPLICAS: '1' });
  });
});
