#!/bin/sh
# test_tool_with_logging: three info log messages about 50 ms apart, then the result
# (exec output "mcp": one JSON object per line).
set -eu
read -r _call || true
echo '{"log":{"level":"info","logger":"conformance","data":"Tool execution started"}}'
sleep 0.05
echo '{"log":{"level":"info","logger":"conformance","data":"Tool processing data"}}'
sleep 0.05
echo '{"log":{"level":"info","logger":"conformance","data":"Tool execution completed"}}'
echo '{"result":{"content":[{"type":"text","text":"Tool with logging executed successfully"}]}}'
