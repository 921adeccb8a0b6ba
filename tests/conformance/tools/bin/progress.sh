#!/bin/sh
# test_tool_with_progress: progress 0, 50 and 100 of 100 about 50 ms apart, then the result.
# mcpd sends the notifications only when the request carried a progress token.
set -eu
read -r _call || true
echo '{"progress":0,"total":100}'
sleep 0.05
echo '{"progress":50,"total":100}'
sleep 0.05
echo '{"progress":100,"total":100}'
echo '{"result":{"content":[{"type":"text","text":"Progress test completed"}]}}'
