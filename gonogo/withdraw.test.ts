import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeGateArtefacts } from './artefacts';
import { holdEverything } from './decide';
import { readLaunchStop, writeLaunchStop } from '../lib/harness/evidence';
import { phaseStarts, withdrawDecision } from './withdraw';

const decided = (decision: 'GO' | 'HOLD') => {
  const dir = mkdtempSync(join(tmpdir(), 'withdraw-'));
  const g = holdEverything('x', { evidenceDir: join(dir, 'evidence'), target: 'production', deploySha: 'abc1234' });
  writeGateArtefacts({ ...g, decision, decidedAt: '2026-04-23T07:50:00.000Z' }, dir, []);
  return dir;
};
const record = (dir: string) => JSON.parse(readFileSync(join(dir, 'evidence', 'gate.json'), 'utf8'));

describe('a later phase withdraws the decision in its folder', () => {
  it('a GO becomes a HOLD in all four artefacts, naming the decision, the phase and when', async () => {
    const dir = decided('GO');
    await withdrawDecision(dir, 'smoke', '2026-04-23T08:00:00.000Z', '');
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

  it('a GO page whose record is gone (removed, or unreadable) is withdrawn all the same', async () => {
    const dir = decided('GO');
    rmSync(join(dir, 'evidence', 'gate.json'));
    await withdrawDecision(dir, 'smoke', '2026-04-23T08:00:00.000Z', '');
    expect(record(dir)).toMatchObject({ decision: 'HOLD', withdrawn: { by: 'smoke' } });
    expect(readFileSync(join(dir, 'gonogo.html'), 'utf8')).toMatch(/<div id="banner" class="hold">HOLD<\/div>/);
    expect(readFileSync(join(dir, 'gonogo.md'), 'utf8')).toMatch(/the earlier decision \(a decision for build unknown/);
  });

  it('a HOLD is withdrawn too: its reasons are as stale as a GO', async () => {
    const dir = decided('HOLD');
    await withdrawDecision(dir, 'preflight', '2026-04-23T08:00:00.000Z', '');
    expect(record(dir).withdrawn).toMatchObject({ decision: 'HOLD', by: 'preflight' });
  });

  it('once withdrawn, later phases leave it as it is; a folder without a decision gets none', async () => {
    const dir = decided('GO');
    await withdrawDecision(dir, 'smoke', '2026-04-23T08:00:00.000Z', '');
    const first = statSync(join(dir, 'evidence', 'gate.json')).mtimeMs;
    const text = readFileSync(join(dir, 'gonogo.md'), 'utf8');
    await withdrawDecision(dir, 'preflight', '2026-04-23T08:05:00.000Z', '');
    expect(statSync(join(dir, 'evidence', 'gate.json')).mtimeMs).toBe(first);
    expect(readFileSync(join(dir, 'gonogo.md'), 'utf8')).toBe(text);
    const empty = mkdtempSync(join(tmpdir(), 'withdraw-'));
    await withdrawDecision(empty, 'smoke', '2026-04-23T08:00:00.000Z', '');
    expect(existsSync(join(empty, 'gonogo.html'))).toBe(false);
  });
});

describe("a phase's start clears where an earlier launch stopped", () => {
  it('the note goes with the decision it explained; the gate then judges the new evidence alone', async () => {
    const dir = decided('HOLD');
    writeLaunchStop(dir, 'preflight failed (1.5 — A backup newer than 24 h exists); later phases not run');
    expect(readLaunchStop(dir)).toMatch(/^preflight failed/);
    await phaseStarts(dir, 'preflight', '2026-04-23T08:00:00.000Z', '');
    expect(readLaunchStop(dir)).toBeUndefined();
    expect(record(dir)).toMatchObject({ decision: 'HOLD', withdrawn: { decision: 'HOLD', by: 'preflight' } });
  });

  it('a folder with no note and no decision is left as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'withdraw-'));
    await phaseStarts(dir, 'smoke', '2026-04-23T08:00:00.000Z', '');
    expect(readLaunchStop(dir)).toBeUndefined();
    expect(existsSync(join(dir, 'gonogo.html'))).toBe(false);
  });
});

describe('a withdrawn GO is withdrawn in Slack too', () => {
  let slack: Server;
  let url = '';
  let status = 200;
  const posts: string[] = [];
  beforeAll(async () => {
    slack = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push((JSON.parse(body) as { text: string }).text);
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => slack.close());

  it('posts once, naming the build, when it was decided and the run that withdrew it', async () => {
    posts.length = 0;
    const dir = decided('GO');
    await withdrawDecision(dir, 'smoke', '2026-04-23T12:00:00.000Z', url);
    await withdrawDecision(dir, 'preflight', '2026-04-23T12:05:00.000Z', url);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatch(
      /^⚠️ GO WITHDRAWN — BuyWhere deploy abc1234\nThe GO decided Thu 23 Apr 03:50 EDT \(07:50 UTC\) no longer stands: a smoke run started at Thu 23 Apr 08:00 EDT \(12:00 UTC\)\. Wait for the next Go\/No-Go\.\nLead: Bolt\n$/,
    );
  });

  it('a withdrawn HOLD posts nothing: nobody was told to go', async () => {
    posts.length = 0;
    await withdrawDecision(decided('HOLD'), 'smoke', '2026-04-23T12:00:00.000Z', url);
    expect(posts).toEqual([]);
  });

  it('Slack refusing the post says so and what to do; the withdrawal on disk stands', async () => {
    status = 500;
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const dir = decided('GO');
      await withdrawDecision(dir, 'smoke', '2026-04-23T12:00:00.000Z', url);
      expect(record(dir).decision).toBe('HOLD');
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(
        /Slack answered HTTP 500; tell #us-launch-ops by hand that the GO for abc1234 is withdrawn/,
      );
    } finally {
      err.mockRestore();
      status = 200;
    }
  });
});
