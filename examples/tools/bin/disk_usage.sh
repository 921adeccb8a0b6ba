#!/bin/sh
# exec tool, output "json": one JSON object on stdout becomes structuredContent (and text).
# A failure (exit status != 0, message on stderr) becomes a tool error with the reason.
df -Pk -- "${1:-/}" | awk 'NR == 2 {
  mount = $6
  gsub(/\\/, "\\\\", mount); gsub(/"/, "\\\"", mount)
  sub(/%/, "", $5)
  printf "{\"mounted_on\": \"%s\", \"size_kb\": %d, \"used_kb\": %d, \"available_kb\": %d, \"use_percent\": %d}\n", mount, $2, $3, $4, $5
}'
