// What a phase actually probed: the endpoints, the CA, the directories, and the build running on the target.
// Evidence carries it, and the gate compares it with its own, so a result measured against another endpoint
// or another build is never taken as evidence for this one. Comparing is pure; measuring (identify.ts) asks
// Docker, and loads only where a phase measures.

export interface Identity {
  /** The public address smoke and the gate ask. */
  apiOrigin: string;
  /** The API container's own address, which deploy step 5 and rollback step 4 wait on; "unset" where not given. */
  apiLocalOrigin: string;
  mcpOrigin: string;
  /** sha256 of the trusted CA bundle, or "system" for the system store. */
  caFingerprint: string;
  projectDir: string;
  diskPath: string;
  backupsDir: string;
  /** The running build's SHA, or "unknown" (with `buildProblem`) when no source could say. */
  build: string;
  /** Each source that named the build: "docker" (the api container's image revision), "RUNBOOK_DEPLOY_SHA". */
  buildSources: Record<string, string>;
  buildProblem?: string;
}

export const comparedFields = [
  'apiOrigin',
  'apiLocalOrigin',
  'mcpOrigin',
  'caFingerprint',
  'projectDir',
  'diskPath',
  'backupsDir',
] as const;

/** Short and full SHAs of one commit agree: one is a prefix of the other, seven hex digits at least. */
export function sameBuild(a: string, b: string): boolean {
  if (!/^[0-9a-f]{7,40}$/.test(a) || !/^[0-9a-f]{7,40}$/.test(b)) return false;
  return a.startsWith(b) || b.startsWith(a);
}

/** What Docker says of the api replicas' build: one revision, why there is none, or that it did not answer. */
export type DockerView = { revision: string } | { problem: string; cannotTell?: boolean } | { unreachable: string };

/**
 * The running build from Docker and the RUNBOOK_DEPLOY_SHA setting. The setting stands in only where Docker
 * cannot tell: it did not answer, or the image carries no revision. Where Docker answers that no api replica
 * runs, or that they run different builds, no setting makes a build of it.
 */
export function runningBuildFrom(
  docker: DockerView,
  statedBuild: string | undefined,
  where: string,
): Pick<Identity, 'build' | 'buildSources' | 'buildProblem'> {
  const sources: Record<string, string> = statedBuild ? { RUNBOOK_DEPLOY_SHA: statedBuild } : {};
  const none = (buildProblem: string) => ({ build: 'unknown', buildSources: sources, buildProblem });
  if ('revision' in docker) return reconcileBuild({ ...sources, docker: docker.revision });
  if ('unreachable' in docker)
    return statedBuild
      ? reconcileBuild(sources)
      : none(`Docker did not answer (${docker.unreachable}); set RUNBOOK_DEPLOY_SHA where Docker cannot be asked`);
  return docker.cannotTell && statedBuild ? reconcileBuild(sources) : none(`${docker.problem} (${where})`);
}

/** Reconciles the sources that named the running build; they must all agree. */
export function reconcileBuild(
  sources: Record<string, string>,
): Pick<Identity, 'build' | 'buildSources' | 'buildProblem'> {
  const named = Object.entries(sources);
  if (named.length === 0)
    return { build: 'unknown', buildSources: sources, buildProblem: 'no source named the running build' };
  const [first] = named;
  const disagree = named.filter(([, sha]) => !sameBuild(sha, first![1]));
  if (disagree.length) {
    return {
      build: 'unknown',
      buildSources: sources,
      buildProblem: `the sources disagree on the running build: ${named.map(([k, v]) => `${k} says ${v}`).join(', ')}`,
    };
  }
  const shortest = named.map(([, v]) => v).sort((a, b) => a.length - b.length)[0]!;
  return { build: shortest, buildSources: sources };
}

/**
 * The identity of a phase that changes nothing, measured when its run started and when it ended. A running
 * build that changed in between (a deploy or rollback meanwhile) is no build its evidence can speak for.
 */
export function heldThroughout(atStart: Identity | undefined, atEnd: Identity): Identity {
  if (!atStart || atStart.build === atEnd.build) return atEnd;
  const why = (i: Identity) => (i.build === 'unknown' && i.buildProblem ? ` (${i.buildProblem})` : '');
  return {
    ...atEnd,
    build: 'unknown',
    buildProblem: `the running build changed during the run: ${atStart.build}${why(atStart)} when it started, ${atEnd.build}${why(atEnd)} when the phase ended`,
  };
}

/**
 * The running build across the phases of one run. A phase that changes nothing is measured as it ends, against
 * the build at its start: the run's start for the first, the end of the phase before it for the next (in a
 * launch, smoke's evidence speaks for the build smoke ran against, not for the one preflight saw). What a deploy
 * or rollback leaves running is where the phase after it starts from. A build unknown once stays unknown.
 */
export class BuildAcrossPhases {
  private last: Promise<Identity | undefined | Error>;
  /** @param atStart the build as the run started; a measure that failed leaves every later phase's build unknown. */
  constructor(atStart: Promise<Identity | undefined> = Promise.resolve(undefined)) {
    this.last = atStart.catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  }

  /** A phase that changes nothing has ended; `atEnd` is the build measured now. */
  async unchangedBy(atEnd: Identity): Promise<Identity> {
    const start = await this.last;
    const held =
      start instanceof Error
        ? {
            ...atEnd,
            build: 'unknown',
            buildProblem: `the running build could not be measured as the run started (${start.message.split('\n')[0]}), so nothing shows it held until ${atEnd.build} was measured as the phase ended`,
          }
        : heldThroughout(start, atEnd);
    this.last = Promise.resolve(held);
    return held;
  }

  /** A deploy or rollback has ended, leaving `atEnd` running. */
  changedTo(atEnd: Identity): Identity {
    this.last = Promise.resolve(atEnd);
    return atEnd;
  }
}

/** What each phase probes, so what its evidence must agree with the gate on. */
export const probedBy: Record<string, ReadonlyArray<(typeof comparedFields)[number]>> = {
  preflight: ['projectDir', 'diskPath', 'backupsDir'],
  smoke: ['apiOrigin', 'mcpOrigin', 'caFingerprint'],
  deploy: ['projectDir', 'apiOrigin', 'apiLocalOrigin', 'caFingerprint'],
  rollback: ['projectDir', 'apiOrigin', 'apiLocalOrigin', 'caFingerprint'],
};

/** The fields on which two identities differ, as "apiOrigin: measured "https://a", the gate's is "https://b"". */
export function identityDiff(
  recorded: Partial<Identity> | undefined,
  expected: Identity,
  fields: ReadonlyArray<(typeof comparedFields)[number]> = comparedFields,
): string[] {
  if (!recorded || typeof recorded !== 'object') return ['no identity recorded'];
  return fields
    .filter((f) => recorded[f] !== expected[f])
    .map((f) => `${f}: measured ${JSON.stringify(recorded[f] ?? null)}, the gate's is ${JSON.stringify(expected[f])}`);
}
