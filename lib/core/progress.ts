/**
 * Live progress for long steps: the step, time elapsed and the latest output line, at most every few
 * seconds, so a long build never leaves a silent terminal. The full output goes to the step's log file.
 */
export function progress(step: string, opts: { everyMs?: number; write?: (s: string) => void } = {}) {
  const everyMs = opts.everyMs ?? 5000;
  const write = opts.write ?? ((s: string) => process.stderr.write(s));
  const started = performance.now();
  let last = '';
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
  write(`▶ ${step}\n`);
  const timer = setInterval(
    () => write(`  … ${step} — ${elapsed()}${last ? ` — ${last.slice(0, 140)}` : ''}\n`),
    everyMs,
  );
  timer.unref();
  return {
    line(l: string) {
      if (l.trim()) last = l.trim();
    },
    done(result: string) {
      clearInterval(timer);
      write(`  ${result} — ${step} (${elapsed()})\n`);
      return (performance.now() - started) / 1000;
    },
  };
}
