import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret, redactUrl, scrub, scrubOutput, scrubValue } from './secret';

describe('Secret', () => {
  it('never prints its value', () => {
    const s = new Secret('hunter2-value');
    expect(`${s}`).toBe('[redacted]');
    expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
    expect(inspect({ s })).not.toContain('hunter2');
    expect(s.reveal()).toBe('hunter2-value');
  });
  it('scrubs raw and URL-encoded forms', () => {
    expect(scrub('a p/w+1 b p%2Fw%2B1', ['p/w+1'])).toBe('a [redacted] b [redacted]');
  });
  it('redacts URL passwords', () => {
    expect(redactUrl('postgresql://u:pw@h:1/db')).toBe('postgresql://u:redacted@h:1/db');
  });
  it('scrubs a measured record at any depth', () => {
    expect(
      scrubValue({ body: { error: 'bad key bw_live_12345' }, list: ['bw_live_12345'] }, ['bw_live_12345']),
    ).toEqual({ body: { error: 'bad key [redacted]' }, list: ['[redacted]'] });
    expect(scrubValue(undefined, ['x'])).toBeUndefined();
  });
  it('scrubs what the process writes to stdout and stderr, strings and buffers alike', () => {
    const seen: string[] = [];
    const original = process.stderr.write;
    process.stderr.write = ((chunk: string | Buffer) => (
      seen.push(String(chunk)),
      true
    )) as typeof process.stderr.write;
    try {
      scrubOutput(['sekrit-value-1']);
      process.stderr.write('diff: expected "sekrit-value-1"\n');
      process.stderr.write(Buffer.from('buffer sekrit-value-1\n'));
    } finally {
      process.stderr.write = original;
    }
    expect(seen.join('')).toBe('diff: expected "[redacted]"\nbuffer [redacted]\n');
  });
});
