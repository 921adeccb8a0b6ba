#!/bin/sh
# exec, output "mcp": sends one request to the client through mcpd, reads the client's answer
# ({"id": 1, "result": ...} or {"id": 1, "error": ...}) from stdin, and returns it verbatim as
# structured content.
read -r _call
case "$1" in
  roots)
    printf '{"request": {"id": 1, "method": "roots/list", "params": {}}}\n' ;;
  elicit)
    printf '{"request": {"id": 1, "method": "elicitation/create", "params": {"message": "What is your name?", "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}}\n' ;;
  sample)
    printf '{"request": {"id": 1, "method": "sampling/createMessage", "params": {"messages": [{"role": "user", "content": {"type": "text", "text": "Say hello"}}], "maxTokens": 20}}}\n' ;;
  *)
    echo "unknown question: $1" >&2
    exit 2 ;;
esac
read -r answer
printf '{"result": {"content": [{"type": "text", "text": "the client answered"}], "structuredContent": {"answer": %s}}}\n' "$answer"
