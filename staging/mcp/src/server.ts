// Reference MCP server: only what the runbook checks of it, GET /health.
import { createServer } from 'node:http';

const port = Number(process.env.MCP_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('MCP_PORT is not set');

createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok' }));
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not found' }));
}).listen(port, '127.0.0.1', () => console.log(`mcp listening on http://127.0.0.1:${port}`));

process.on('SIGTERM', () => process.exit(0));
