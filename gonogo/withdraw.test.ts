import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGateArtefacts } from './artefacts';
import { holdEverything } from './gate';
import { withdrawDecision } from './withdraw';

const decided = (decision: 'GO' | 'HOLD') => {
  const dir = mkdtempSync(join(tmpdir(), 'withdraw-'));
  const g = holdEverything('x', { reportsDir: dir, target: 'production', deploySha: 'abc1234' });
  writeGateArtefacts({ ...g, decision, decidedAt: '2026-04-23T07:50:00.000Z' }, dir, []);
  return dir;
};
const record = (dir: string) => JSON.parse(readFileSync(join(dir, 'evidence', 'gate.json'), 'utf8'));

describe('a later phase withdraws the decision in its folder', () => {
  it('a GO becomes a HOLD in all four artefacts, naming the decision, the phase and when', async () => {
    const dir = decided('GO');
    await withdrawDecision(dir, 'smoke', '2026-04-23T08:00:00.000Z');
    expect(record(dir)).toMatchObject({
      decision: 'HOLD',
      target: 'production',
      deploySha: 'abc1234',
      withdrawn: { decision: 'GO', decidedAt: '2026-04-23T07:50:00.000Z', by: 'smoke', at: '2026-04-23T08:00:00.000Z' },
    });
    for (const f of ['gonogo.md', 'gonogo.html', 'gonogo.junit.xml'])
      expect(readFileSync(join(dir, f), 'utf8'), f).toMatch(
        /the earlier decision \(GO for build abc1234, decided 2026-04-23T07:50:00.000Z\) was withdrawn when a smoke run started here at 2026-04-23T08:00:00.000Z/,
      );
    expect(readFileSync(join(dir, 'gonogo.html'), 'utf8')).toMatch(/<div id="banner" class="hold">HOLD<\/div>/);
  });

  it('a HOLD is withdrawn too: its reasons are as stale as a GO', async () => {
    const dir = decided('HOLD');
    await withdrawDecision(dir, 'preflight', '2026-04-23T08:00:00.000Z');
    expect(record(dir).withdrawn).toMatchObject({ decision: 'HOLD', by: 'preflight' });
  });

  it('once withdrawn, later phases leave it as it is; a folder without a decision gets none', async () => {
    const dir = decided('GO');
    await withdrawDecision(dir, 'smoke', '2026-04-23T08:00:00.000Z');
    const first = statSync(join(dir, 'evidence', 'gate.json')).mtimeMs;
    const text = readFileSync(join(dir, 'gonogo.md'), 'utf8');
    await withdrawDecision(dir, 'preflight', '2026-04-23T08:05:00.000Z');
    expect(statSync(join(dir, 'evidence', 'gate.json')).mtimeMs).toBe(first);
    expect(readFileSync(join(dir, 'gonogo.md'), 'utf8')).toBe(text);
    const empty = mkdtempSync(join(tmpdir(), 'withdraw-'));
    await withdrawDecision(empty, 'smoke', '2026-04-23T08:00:00.000Z');
    expect(existsSync(join(empty, 'gonogo.html'))).toBe(false);
  });
});
