// The one seam between the runbook's steps and the engine that runs the stack: start, stop, run once, wait for
// convergence, and say what runs. Compose drives one host; Swarm drives a stack's services and their tasks through
// the engine's API. The specs keep their titles and thresholds; only what stands behind these calls changes.
import type { ServiceState } from '../probes/docker.js';

export const orchestratorKinds = ['compose', 'swarm'] as const;
export type OrchestratorKind = (typeof orchestratorKinds)[number];

/** One running copy of a service: a container on Compose, a task on Swarm. */
export interface Replica {
  service: string;
  /** Container or task id. */
  id: string;
  /** Swarm's slot and node; absent on Compose. */
  slot?: number;
  node?: string;
  state: string;
  imageId: string;
}

export interface StopResult {
  stopped: string[];
  stillRunning: string[];
  absent: string[];
}

/** What runs, for step 8 and `npm run status`: each service, each of its replicas, and the nodes they run on. */
export interface Inventory {
  services: Array<{ service: string; desired: number; running: number }>;
  /** Health is the container's health check where the engine reports one (Compose). */
  replicas: Array<Replica & { image: string; health?: string }>;
  nodes: Array<{ name: string; state: string; availability: string; role: string }>;
}

export interface StartOptions {
  /** Where the engine's output for the step goes. */
  logFile: string;
  /**
   * The tag each named service runs: the build's sha- tag. Compose runs the :latest the steps set before; Swarm
   * runs exactly this tag, and its convergence waits for every task on that image.
   */
  tags?: Record<string, string>;
  /** How long the services may take to converge, where the engine reports convergence (Swarm). */
  timeoutMs: number;
}

export interface RunOnceResult {
  exitCode: number | undefined;
  timedOut: boolean;
  durationMs: number;
  /** The last lines of the output, for a failure's message. */
  tailText: string;
}

export interface Orchestrator {
  readonly kind: OrchestratorKind;
  /** What runs now, one entry per service: running if any replica runs, healthy only if every one is. */
  services(names?: string[]): Promise<Map<string, ServiceState>>;
  /** Every running replica of a service. */
  replicas(service: string): Promise<Replica[]>;
  /** Stops every replica of the services; resolves when the engine has stopped them. */
  stop(services: string[]): Promise<StopResult>;
  /** Services, replicas (running or not) and nodes. */
  inventory(): Promise<Inventory>;
  /**
   * Starts the services, or updates them to the tags asked for. Compose starts their containers; Swarm deploys the
   * stack and resolves once every task runs the new image and is healthy, and rejects when the engine rolled the
   * update back (EngineRolledBack).
   */
  start(services: string[], opts: StartOptions): Promise<{ exitCode: number | undefined }>;
  /** Waits until every named service runs and is healthy (or has no health check); resolves with what runs. */
  healthy(services: string[], timeoutMs: number): Promise<{ value: Map<string, ServiceState>; elapsedMs: number }>;
  /** The image reference the service's previous spec named (Swarm's PreviousSpec); none on Compose. */
  previousImage(service: string): Promise<string | undefined>;
  /** Runs a service's task once to its end with `command` (the migrations); never throws for a non-zero exit. */
  runOnce(
    service: string,
    command: string[] | undefined,
    opts: { title: string; logFile: string; timeoutMs: number },
  ): Promise<RunOnceResult>;
}

/**
 * The build the running API replicas share: the revision every one of them was started from. Replicas that
 * disagree (a rolling update half done, a task the update left behind) are no single build: that is a problem
 * naming each replica and its revision, and the gate holds on it.
 */
export function sharedRevision(
  replicas: ReadonlyArray<Replica & { revision: string | undefined }>,
): { revision: string } | { problem: string; cannotTell?: boolean } {
  if (replicas.length === 0) return { problem: 'no running api replica' };
  const unlabelled = replicas.filter((r) => !r.revision);
  if (unlabelled.length)
    return {
      problem: `the image of ${unlabelled.map(name).join(', ')} carries no revision label or sha- tag`,
      cannotTell: true,
    };
  const revisions = new Set(replicas.map((r) => r.revision));
  if (revisions.size === 1) return { revision: replicas[0]!.revision! };
  return {
    problem: `the running api replicas disagree on the build: ${replicas.map((r) => `${name(r)} runs ${r.revision}`).join(', ')}`,
  };
}

const name = (r: Replica) =>
  r.slot === undefined
    ? `${r.service} (${r.id.slice(0, 12)})`
    : `${r.service}.${r.slot} (${r.id.slice(0, 12)}${r.node ? ` on ${r.node}` : ''})`;
