// The reference peer: a Streamable HTTP MCP server built with the official TypeScript SDK, as
// its stateless example does it (a server and a transport per request), with JSON responses
// and one `echo` tool. Plain node:http (no Express), so the SDK is measured, not a framework.
//
//   node sdk_http_server.mjs PORT_FILE
import fs from 'node:fs';
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod/v4';

function makeServer() {
  const server = new McpServer({ name: 'sdk-bench', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Repeats the message back.', inputSchema: { message: z.string().min(1) } },
    async ({ message }) => ({ content: [{ type: 'text', text: `echo: ${message}` }] }),
  );
  return server;
}

const httpServer = http.createServer(async (req, res) => {
  if (req.method !== 'POST' || !req.url.startsWith('/mcp')) {
    res.writeHead(405).end();
    return;
  }
  const server = makeServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  try {
    await server.connect(transport);
    await transport.handleRequest(req, res);
  } catch (error) {
    if (!res.headersSent) res.writeHead(500).end();
  }
});
httpServer.keepAliveTimeout = 60000;
httpServer.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2], String(httpServer.address().port));
});
