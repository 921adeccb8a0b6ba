// The reference peer on stdio: the official TypeScript SDK's stdio server with one `echo` tool.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import * as z from 'zod/v4';

const server = new McpServer({ name: 'sdk-bench', version: '1.0.0' });
server.registerTool(
  'echo',
  { description: 'Repeats the message back.', inputSchema: { message: z.string().min(1) } },
  async ({ message }) => ({ content: [{ type: 'text', text: `echo: ${message}` }] }),
);
await server.connect(new StdioServerTransport());
