#!/bin/sh
# exec, output "json": one object on stdout. The name is restricted by the tool's schema to
# characters that need no JSON escaping.
read -r _call
printf '{"name": "%s", "count": %s, "tool": "%s"}\n' "$1" "$2" "$MCP_TOOL"
