#!/bin/sh
# test_reconnection: a log message first (so the answer is an SSE stream with a priming event),
# a short pause, then the result.
set -eu
read -r _call || true
echo '{"log":{"level":"info","logger":"conformance","data":"reconnection test started"}}'
sleep 0.2
echo '{"result":{"content":[{"type":"text","text":"Reconnection test completed successfully"}]}}'
