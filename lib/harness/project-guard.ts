// A bare `vitest`, `vitest --ui` or an editor's Vitest extension runs every project in the config. Only the
// unit tests may run that way: a runbook phase probes (and deploy and rollback change) whatever target the
// shell points at, and the end-to-end tests rebuild and break the staging stack. So every other project runs
// only when Vitest's own resolved project filter names it exactly (`--project deploy`, or `project` in the
// Node API), and never in watch mode.
import type { Vite, VitestPluginContext } from 'vitest/node';

export function runOnlyWhenNamed(free: readonly string[]): Vite.Plugin {
  return {
    name: 'runbook:run-only-when-named',
    async configureVitest({ vitest, project }: VitestPluginContext) {
      if (free.includes(project.name)) return;
      const named = ([] as string[]).concat(vitest.config.project ?? []).includes(project.name);
      if (named && vitest.config.watch) {
        throw new Error(
          `${project.name} never runs in watch mode: it would run again on every saved file. Use \`vitest run --project ${project.name}\`.`,
        );
      }
      // Vitest calls this hook while iterating its list of projects: leave the list alone until it has called them all.
      await Promise.resolve();
      if (!named) vitest.projects.splice(vitest.projects.indexOf(project), 1);
    },
  };
}
