import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors';
import { parseEnvFile } from './env-syntax';

describe('parseEnvFile', () => {
  it('reads KEY=VALUE, export, quotes and comments', () => {
    const v = parseEnvFile('# c\nexport A=1\nB="two words"\nC=\'x\'\nD=plain # trailing\n\nE=\n', '.env').values;
    expect(Object.fromEntries(v)).toEqual({ A: '1', B: 'two words', C: 'x', D: 'plain', E: '' });
  });

  it('names the line of a malformed entry without echoing its value', () => {
    const text = 'A=1\nJWT_SECRET_KEY supersecretvalue\n';
    expect(() => parseEnvFile(text, '.env')).toThrow(ConfigError);
    try {
      parseEnvFile(text, '.env');
    } catch (e) {
      expect((e as Error).message).toContain('.env line 2');
      expect((e as Error).message).not.toContain('supersecretvalue');
    }
  });

  it('rejects an unterminated quote and binary content', () => {
    expect(() => parseEnvFile('A="open\n', '.env')).toThrow(/unterminated/);
    expect(() => parseEnvFile('A=1\u0000', '.env')).toThrow(/binary/);
  });
});
