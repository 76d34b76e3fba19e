// Measured values in words, for a person: the console, Rex's page and the status post. Numbers are rounded here,
// for display only, and a rounded number says so ("≈"); every rule in the catalogue judges the value itself.
// JUnit's system-out and the evidence keep the structured record.
import { lookup, numberInWords, type Measured } from './catalogue.js';

export { numberInWords };

const label = (key: string) => key.replace(/_/g, ' ');

function valueInWords(v: unknown, depth = 0): string {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return numberInWords(v);
  if (typeof v === 'string') return v.length > 160 ? `${v.slice(0, 160)}…` : v;
  if (Array.isArray(v)) {
    if (v.length === 0) return 'none';
    const items = v.slice(0, 8).map((x) => valueInWords(x, depth + 1));
    return `${items.join(', ')}${v.length > 8 ? ` and ${v.length - 8} more` : ''}`;
  }
  if (typeof v === 'object') {
    const parts = Object.entries(v as Record<string, unknown>).map(
      ([k, x]) => `${label(k)} ${valueInWords(x, depth + 1)}`,
    );
    return depth === 0 ? parts.join('; ') : `(${parts.join(', ')})`;
  }
  return String(v);
}

/**
 * A check's measured record in words: the catalogue's own sentence for the check where it has one, else each
 * field named and valued ("days left ≈ 364.2; key type RSA; server auth yes"). Never JSON.
 */
export function measuredInWords(id: string, m: unknown): string {
  if (m === undefined || m === null) return 'nothing measured';
  if (typeof m !== 'object' || Array.isArray(m)) return valueInWords(m);
  try {
    const said = lookup(id)?.words?.(m as Measured);
    if (said) return said;
  } catch {
    // A record without what the sentence needs is still shown, field by field.
  }
  return valueInWords(m);
}
