// The second reference peer: the same echo server built on the 2.x TypeScript SDK
// (`@modelcontextprotocol/server`), stateless with JSON responses. 2025-era requests go
// through the SDK's stateless idiom (a server and a web-standard transport per request,
// `enableJsonResponse`), 2026-07-28 requests (per-request `_meta` envelope, MCP-Protocol-Version
// / Mcp-Method / Mcp-Name headers) through `createMcpHandler` with `responseMode: 'json'`;
// `isLegacyRequest` routes between them, as the SDK documents. Plain node:http (no framework):
// the request is handed to the SDK as a web `Request` and its `Response` written back.
//
//   node sdk2_http_server.mjs PORT_FILE
import fs from 'node:fs';
import http from 'node:http';
import {
  McpServer,
  WebStandardStreamableHTTPServerTransport,
  createMcpHandler,
  isLegacyRequest,
} from '@modelcontextprotocol/server';
import * as z from 'zod/v4';

function makeServer() {
  const server = new McpServer({ name: 'sdk2-bench', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Repeats the message back.', inputSchema: z.object({ message: z.string().min(1) }) },
    async ({ message }) => ({ content: [{ type: 'text', text: `echo: ${message}` }] }),
  );
  return server;
}

const modern = createMcpHandler(() => makeServer(), { legacy: 'reject', responseMode: 'json' });

async function legacy(request, parsedBody) {
  const server = makeServer();
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  try {
    await server.connect(transport);
    return await transport.handleRequest(request, { parsedBody });
  } finally {
    transport.close();
    server.close();
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const httpServer = http.createServer(async (req, res) => {
  if (req.method !== 'POST' || !req.url.startsWith('/mcp')) {
    res.writeHead(405).end();
    return;
  }
  try {
    const body = await readBody(req);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    const url = `http://${req.headers.host ?? '127.0.0.1'}${req.url}`;
    const make = () => new Request(url, { method: 'POST', headers, body });
    let parsed;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const response =
      parsed !== undefined && (await isLegacyRequest(make(), parsed))
        ? await legacy(make(), parsed)
        : await modern.fetch(make(), parsed !== undefined ? { parsedBody: parsed } : {});
    const out = Buffer.from(await response.arrayBuffer());
    const outHeaders = {};
    response.headers.forEach((value, name) => {
      outHeaders[name] = value;
    });
    outHeaders['content-length'] = String(out.length);
    res.writeHead(response.status, outHeaders).end(out);
  } catch (error) {
    process.stderr.write(`sdk2: ${error?.stack ?? error}\n`);
    if (!res.headersSent) res.writeHead(500).end();
  }
});
httpServer.keepAliveTimeout = 60000;
httpServer.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2], String(httpServer.address().port));
});
