// The last line of `npm test`: how many tests passed and how many failed, after Vitest's own summary, so a person
// scrolling back, or a CI log's last line, has the answer without reading the summary's table.
import type { Reporter, TestModule } from 'vitest/node';

export function tallyLine(states: ReadonlyArray<string>): string {
  const count = (s: string) => states.filter((x) => x === s).length;
  return `${count('passed')} passed, ${count('failed')} failed`;
}

export default class TestTally implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    const states = modules.flatMap((m) => [...m.children.allTests()].map((t) => t.result().state));
    // At exit, so it comes after every other reporter's last words (the HTML report's note among them).
    process.once('exit', () => process.stdout.write(`\n${tallyLine(states)}\n`));
  }
}
