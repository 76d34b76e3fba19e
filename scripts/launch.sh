#!/bin/sh
# npm run launch. `-- --no-deploy` alone becomes the one Vitest process of preflight, smoke and the gate, with
# nothing started before it: a TypeScript wrapper would add half a second to every launch. Everything a launch
# owes its reader is done inside that run (a phase that starts clears an older launch's stop note; a phase that
# cannot start writes the gate's HOLD with the reason; the gate's teardown makes the exit code the decision).
# Any other arguments, a deploy included, go to scripts/launch.ts.
cd "$(dirname "$0")/.." || exit 2
if [ "$#" -eq 1 ] && [ "$1" = --no-deploy ]; then
  exec node_modules/.bin/vitest run --project preflight --project smoke --project gonogo
fi
exec node --import tsx scripts/launch.ts "$@"
