import { scrub } from '../core/secret.js';

/** Posts text, scrubbed of the given secrets, to a Slack incoming webhook. Never required: a failure is returned, never thrown. */
export async function postToSlack(
  webhook: string | undefined,
  raw: string,
  secrets: readonly string[],
  timeoutMs = 5000,
): Promise<string | undefined> {
  if (!webhook) return undefined;
  const text = scrub(raw, secrets);
  try {
    // Most runs post nothing: undici loads only for a post.
    const { request } = await import('undici');
    const res = await request(webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 300 ? undefined : `Slack answered HTTP ${res.statusCode}`;
  } catch (err) {
    return `Slack post failed: ${scrub((err as Error).message, [webhook, ...secrets])}`;
  }
}
