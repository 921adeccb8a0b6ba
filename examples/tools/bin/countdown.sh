#!/bin/sh
# exec tool, output "mcp": every stdout line is a JSON object.
#   {"progress": P, "total": T, "message": M}  -> notifications/progress to the client
#   {"log": {"level", "logger", "data"}}       -> notifications/message to the client
#   {"result": CallToolResult}                 -> the answer; ends the call
from=$1
delay=$2
n=$from
while [ "$n" -gt 0 ]; do
  printf '{"progress": %d, "total": %d, "message": "%d..."}\n' $((from - n + 1)) "$from" "$n"
  [ "$delay" -gt 0 ] && sleep "$delay"
  n=$((n - 1))
done
printf '{"log": {"level": "info", "logger": "countdown", "data": "counted down from %d"}}\n' "$from"
printf '{"result": {"content": [{"type": "text", "text": "Liftoff after %d steps!"}]}}\n' "$from"
