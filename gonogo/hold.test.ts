import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeHold } from './hold';

describe('writeHold', () => {
  it('a reason of several lines is put on one, so the status post names every setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hold-'));
    await writeHold(
      'preflight could not start: 2 settings need fixing:\n  - RUNBOOK_DB_URL: expected a URL, found nothing.\n  - RUNBOOK_REDIS_URL: expected a URL, found nothing.',
      { reportsDir: dir, target: 'production', deploySha: 'unknown' },
    );
    const md = readFileSync(join(dir, 'gonogo.md'), 'utf8');
    expect(md).toMatch(/^⛔ HOLD/);
    expect(md).toContain(
      'preflight could not start: 2 settings need fixing: RUNBOOK_DB_URL: expected a URL, found nothing.; RUNBOOK_REDIS_URL: expected a URL, found nothing.',
    );
    expect(readFileSync(join(dir, 'gonogo.junit.xml'), 'utf8')).toContain('name="decision" value="HOLD"');
  });
});
