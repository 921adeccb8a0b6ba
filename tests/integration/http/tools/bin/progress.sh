#!/bin/sh
# progress: three progress reports (sent only when the request carried a progress token), a
# log message, then the result. The pauses matter to SDK clients: they handle notifications
# asynchronously but a response at once, so progress read in the same chunk as the result
# would find its handler gone.
set -eu
read -r _call || true
echo '{"progress":1,"total":3,"message":"one"}'
echo '{"progress":2,"total":3,"message":"two"}'
echo '{"log":{"level":"info","logger":"progress","data":"almost done"}}'
echo '{"progress":3,"total":3,"message":"three"}'
sleep 0.2
echo '{"result":{"content":[{"type":"text","text":"progress done"}]}}'
