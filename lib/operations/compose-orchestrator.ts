// The Compose side of the orchestrator seam: one host, one container per service, found by Compose's labels.
import { hostname } from 'node:os';
import type { ComposeProject } from '../probes/compose.js';
import { runningContainers, serviceStates, stopServices } from '../probes/docker.js';
import { waitHealthy } from '../probes/health.js';
import type { Orchestrator } from './orchestrator.js';
import { byText } from '../core/order.js';

// The compose CLI's side loads with the first call that runs it: the phases that only read never load it.
const stack = () => import('./stack.js');

export function composeOrchestrator(t: {
  projectDir: string;
  composeFile: string;
  composeProject: string;
}): Orchestrator {
  const project = t.composeProject;
  // Found on first use: the read-only calls never need the compose CLI.
  let cli: Promise<ComposeProject> | undefined;
  const compose = () => (cli ??= stack().then((m) => m.composeFor(t)));
  return {
    kind: 'compose',
    services: (names) => serviceStates(project, names),
    async replicas(service) {
      return (await runningContainers(project, service)).map((c) => ({ service, state: 'running', ...c }));
    },
    stop: (services) => stopServices(project, services),
    async inventory() {
      const states = [...(await serviceStates(project)).values()].sort((a, b) => byText(a.service, b.service));
      return {
        services: states.map((s) => ({ service: s.service, desired: 1, running: s.state === 'running' ? 1 : 0 })),
        replicas: states.map((s) => ({
          service: s.service,
          id: s.id,
          state: s.state,
          health: s.health === 'none' ? undefined : s.health,
          node: hostname(),
          imageId: s.imageId,
          image: s.image,
        })),
        nodes: [{ name: hostname(), state: 'ready', availability: 'active', role: 'compose host' }],
      };
    },
    start: async (services, opts) => (await stack()).up(await compose(), services, opts.logFile),
    previousImage: async () => undefined,
    healthy: (services, timeoutMs) => waitHealthy(project, services, { timeoutMs }),
    async runOnce(service, command, opts) {
      const p = await compose();
      const [{ composeStep }, { composeArgs }] = await Promise.all([stack(), import('../probes/compose.js')]);
      return composeStep(p, opts.title, composeArgs.runRm(p, service, command ?? []), {
        logFile: opts.logFile,
        timeoutMs: opts.timeoutMs,
      });
    },
  };
}
