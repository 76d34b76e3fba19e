// Picks the orchestrator a target names (RUNBOOK_ORCHESTRATOR).
import { join } from 'node:path';
import { composeOrchestrator } from './compose-orchestrator.js';
import type { Orchestrator, OrchestratorKind } from './orchestrator.js';
import { swarmOrchestrator } from './swarm-orchestrator.js';

export function orchestratorFor(t: {
  orchestrator: OrchestratorKind;
  composeProject: string;
  projectDir: string;
  composeFile: string;
  swarmFile: string;
  apiImage: string;
  mcpImage: string;
  registry?: string;
}): Orchestrator {
  // Through a registry, every node pulls the same repository the deploy pushed to.
  const repo = (image: string) => (t.registry ? `${t.registry}/${image}` : image);
  switch (t.orchestrator) {
    case 'compose':
      return composeOrchestrator(t);
    case 'swarm':
      // The stack's namespace is the compose project's name: the same services, the same volumes' prefix.
      return swarmOrchestrator(
        {
          stack: t.composeProject,
          projectDir: t.projectDir,
          composeFile: join(t.projectDir, t.composeFile),
          swarmFile: join(t.projectDir, t.swarmFile),
        },
        { api: repo(t.apiImage), mcp: repo(t.mcpImage) },
      );
  }
}
