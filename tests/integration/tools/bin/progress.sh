#!/bin/sh
# exec, output "mcp": progress lines, a log line, then the final result.
# With "true" as $2 it first asks the client for roots/list and waits for the answer: a client
# reads everything sent before that request before it answers, so no notification can arrive
# in the same read as the result (the TypeScript SDK drops progress that does; see
# modelcontextprotocol/typescript-sdk#2580).
read -r _call
steps=$1
i=1
while [ "$i" -le "$steps" ]; do
  printf '{"progress": %d, "total": %d, "message": "step %d of %d"}\n' "$i" "$steps" "$i" "$steps"
  i=$((i + 1))
done
printf '{"log": {"level": "info", "logger": "progress", "data": "counted to %d"}}\n' "$steps"
if [ "$2" = "true" ]; then
  printf '{"request": {"id": "sync", "method": "roots/list", "params": {}}}\n'
  read -r _answer
fi
printf '{"result": {"content": [{"type": "text", "text": "counted to %d"}], "structuredContent": {"steps": %d}}}\n' "$steps" "$steps"
