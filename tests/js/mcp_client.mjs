// The official MCP client (npm @modelcontextprotocol/sdk: Client +
// StdioClientTransport) driving the real `mgteam mcp`, for mgteam's tests.
//
// It starts MCP_COMMAND with MCP_ARGS (a JSON array) and the environment it
// was given (the SDK passes a child only a few variables unless told), then
// answers commands read from stdin, one JSON object per line:
//   {"list": true}                         -> {"tools": [...]}
//   {"call": NAME, "arguments": {...}}     -> {"result": CallToolResult} or {"error": message, "code": n}
// and prints {"ready": ..., "server": serverInfo, "instructions": ...} once connected.
// It exits when stdin closes.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import readline from 'node:readline';

const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const transport = new StdioClientTransport({
  command: process.env.MCP_COMMAND,
  args: JSON.parse(process.env.MCP_ARGS ?? '["mcp"]'),
  env: { ...process.env },
  stderr: 'inherit',
});
const client = new Client({ name: 'mgteam-tests', version: '1.0.0' });
await client.connect(transport);
say({ ready: true, server: client.getServerVersion(), instructions: client.getInstructions() ?? '' });

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line);
  try {
    if (cmd.list) {
      say(await client.listTools());
    } else {
      // callTool validates structuredContent against the tool's declared
      // outputSchema (after listTools): a mismatch is an error here.
      say({ result: await client.callTool({ name: cmd.call, arguments: cmd.arguments ?? {} }) });
    }
  } catch (e) {
    say({ error: String(e?.message ?? e), code: e?.code ?? null });
  }
}
await client.close();
process.exit(0);
