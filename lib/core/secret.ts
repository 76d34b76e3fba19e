import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/** A value that prints as [redacted] wherever it is stringified, logged or serialised. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  get isEmpty(): boolean {
    return this.#value.length === 0;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Replaces every occurrence of the given secret values (and their URL-encoded forms) in text. */
export function scrub(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join(REDACTED);
  }
  return out;
}

/** Hides the password part of a URL. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return REDACTED;
  }
}

/** A JSON-shaped value with every secret replaced, at any depth. */
export function scrubValue<T>(value: T, secrets: Iterable<string>): T {
  if (value === undefined) return value;
  return JSON.parse(scrub(JSON.stringify(value), secrets)) as T;
}

let installed: string[] | undefined;
/**
 * Scrubs everything this process writes to stdout and stderr, Vitest's own failure output and diffs included.
 * Installed once per process; later calls add secrets to the list.
 */
export function scrubOutput(secrets: readonly string[]) {
  if (installed) {
    installed.push(...secrets);
    return;
  }
  installed = [...secrets];
  const list = installed;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined;
      return write(text === undefined ? chunk : scrub(text, list), ...rest);
    }) as typeof stream.write;
  }
}
