#!/bin/sh
# test_sampling PROMPT: asks the client's model (sampling/createMessage) and returns its answer.
set -eu
. "$(dirname "$0")/lib.sh"
read -r _call || true
prompt=$(json_escape "$1")
ask_client sampling/createMessage \
  "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"$prompt\"}}],\"maxTokens\":100}"
result_text "LLM response: $ANSWER"
