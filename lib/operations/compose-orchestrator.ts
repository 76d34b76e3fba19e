// The Compose side of the orchestrator seam: one host, one container per service, found by Compose's labels.
import { hostname } from 'node:os';
import { serviceStates, stopServices } from '../probes/docker.js';
import type { Orchestrator } from './orchestrator.js';

export function composeOrchestrator(project: string): Orchestrator {
  return {
    kind: 'compose',
    services: (names) => serviceStates(project, names),
    async replicas(service) {
      const s = (await serviceStates(project, [service])).get(service);
      return s?.state === 'running' ? [{ service, id: s.id, state: s.state, imageId: s.imageId }] : [];
    },
    stop: (services) => stopServices(project, services),
    async inventory() {
      const states = [...(await serviceStates(project)).values()].sort((a, b) => a.service.localeCompare(b.service));
      return {
        services: states.map((s) => ({ service: s.service, desired: 1, running: s.state === 'running' ? 1 : 0 })),
        replicas: states.map((s) => ({
          service: s.service,
          id: s.id,
          state: s.state,
          imageId: s.imageId,
          image: s.image,
        })),
        nodes: [{ name: hostname(), state: 'ready', availability: 'active', role: 'compose host' }],
      };
    },
  };
}
