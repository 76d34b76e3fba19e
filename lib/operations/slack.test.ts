import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { postToSlack } from './slack';

describe('Slack status post', () => {
  it('posts the text as JSON to the webhook', async () => {
    let received = '';
    const server = createServer((req, res) => {
      req.on('data', (c: Buffer) => (received += c.toString()));
      req.on('end', () => res.writeHead(200).end('ok'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    expect(await postToSlack(url, '⛔ HOLD: key bw_secret_123 echoed', ['bw_secret_123'])).toBeUndefined();
    expect(JSON.parse(received)).toEqual({ text: '⛔ HOLD: key [redacted] echoed' });
    server.close();
  });

  it('a failing or hung webhook is reported, never thrown, within its deadline', async () => {
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    expect(await postToSlack(url, 'x', [], 300)).toMatch(/Slack post failed/);
    server.closeAllConnections();
    server.close();
    expect(await postToSlack('http://127.0.0.1:9/hook', 'x', [], 1000)).toMatch(/Slack post failed/);
    expect(await postToSlack(undefined, 'x', [])).toBeUndefined();
  });
});
