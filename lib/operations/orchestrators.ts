// Picks the orchestrator a target names (RUNBOOK_ORCHESTRATOR).
import { composeOrchestrator } from './compose-orchestrator.js';
import type { Orchestrator, OrchestratorKind } from './orchestrator.js';
import { swarmOrchestrator } from './swarm-orchestrator.js';

export function orchestratorFor(t: { orchestrator: OrchestratorKind; composeProject: string }): Orchestrator {
  switch (t.orchestrator) {
    case 'compose':
      return composeOrchestrator(t.composeProject);
    case 'swarm':
      // The stack's namespace is the compose project's name: the same services, the same volumes' prefix.
      return swarmOrchestrator(t.composeProject);
  }
}
