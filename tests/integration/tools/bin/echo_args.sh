#!/bin/sh
# exec, output "text": prints its argument and part of the call context.
read -r _call
printf 'args: %s\n' "$*"
printf 'tool: %s\n' "$MCP_TOOL"
