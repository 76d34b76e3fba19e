import { ConfigError } from './errors.js';

export interface EnvFile {
  values: Map<string, string>;
}

/**
 * Parses a dotenv file the way docker compose reads it: KEY=VALUE per line, # comments, optional
 * `export `, optional matching quotes. Anything else is an error that names the line, never a guess.
 */
export function parseEnvFile(text: string, source: string): EnvFile {
  if (text.includes('\u0000'))
    throw new ConfigError(source, 'a text file of KEY=VALUE lines', 'binary content', `Recreate ${source}.`);
  const values = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      throw new ConfigError(
        `${source} line ${i + 1}`,
        'KEY=VALUE',
        `a line that is not an assignment (${line.length} characters, starting "${line.slice(0, 12).replace(/=.*/, '=…')}")`,
        `Fix or remove line ${i + 1} of ${source}.`,
      );
    }
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) value = value.slice(1, -1);
    else if (q === '"' || q === "'") {
      throw new ConfigError(
        `${source} line ${i + 1}`,
        'a closing quote',
        `an unterminated ${q} quote for ${m[1]}`,
        `Close the quote on line ${i + 1} of ${source}.`,
      );
    } else value = value.replace(/\s+#.*$/, '');
    values.set(m[1]!, value);
  });
  return { values };
}

export function formatEnvFile(values: Map<string, string> | Array<[string, string]>): string {
  return [...values].map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}
