#!/bin/sh
# ask_name: asks the client for the user's name (elicitation/create, request id "name") and
# greets them. A 2025 client answers a live request; a 2026-07-28 client gets an
# InputRequiredResult (input key "name") and retries, and mcpd runs this again with the answer.
set -eu
read -r _call || true
printf '%s\n' '{"request":{"id":"name","method":"elicitation/create","params":{"message":"What is your name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}}'
read -r answer
case $answer in
  *'"error":'*) echo "no name: $answer" >&2; exit 1 ;;
esac
name=$(printf '%s' "$answer" | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
printf '{"result":{"content":[{"type":"text","text":"Hello, %s!"}]}}\n' "$name"
