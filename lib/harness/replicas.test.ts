import { describe, expect, it } from 'vitest';
import { replicaOrigin } from './replicas';

describe('replicaOrigin: each replica on its own port', () => {
  it('slot 1, and a replica with no slot (Compose), keep the local URL; slot N adds N - 1', () => {
    expect(replicaOrigin('http://127.0.0.1:18000', 1)).toBe('http://127.0.0.1:18000');
    expect(replicaOrigin('http://127.0.0.1:18000', undefined)).toBe('http://127.0.0.1:18000');
    expect(replicaOrigin('http://127.0.0.1:18000', 3)).toBe('http://127.0.0.1:18002');
  });
  it('takes the scheme’s own port when the URL names none', () => {
    expect(replicaOrigin('http://localhost', 2)).toBe('http://localhost:81');
    expect(replicaOrigin('https://api.internal/', 1)).toBe('https://api.internal');
  });
});
