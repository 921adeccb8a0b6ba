#!/bin/sh
# ask QUESTION: relays a sampling/createMessage request to the client, returns its answer line.
set -eu
read -r _call || true
question=$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
printf '{"request":{"id":1,"method":"sampling/createMessage","params":{"messages":[{"role":"user","content":{"type":"text","text":"%s"}}],"maxTokens":50}}}\n' "$question"
read -r answer
answer=$(printf '%s' "$answer" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
printf '{"result":{"content":[{"type":"text","text":"%s"}]}}\n' "$answer"
