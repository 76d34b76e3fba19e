import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret, redactUrl, scrub } from './secret';

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
});
