#!/bin/sh
# The tools of the conformance scenarios input-required-result-* (SEP-2322) and of
# server-stateless: each asks the client something through mcpd (exec output "mcp"). A
# 2025-11-25 client gets the question as a server-to-client request; a 2026-07-28 client gets an
# InputRequiredResult whose inputRequests are keyed by the request ids used here, and mcpd runs
# this program again on the retry, answering what was already answered at once.
# usage: input_required.sh MODE  (MODE below)
set -eu
. "$(dirname "$0")/lib.sh"
read -r call || true

case $1 in
  elicitation)  # test_input_required_result_elicitation, test_streaming_elicitation
    ask_as user_name elicitation/create "$(elicit_params 'What is your name?' name string)"
    result_text "Hello, $(answer_field name)!"
    ;;
  sampling)  # test_input_required_result_sampling
    ask_as capital_question sampling/createMessage \
      '{"messages":[{"role":"user","content":{"type":"text","text":"What is the capital of France?"}}],"maxTokens":100}'
    result_text "Sampling answer: $(answer_field text)"
    ;;
  roots)  # test_input_required_result_list_roots
    ask_as client_roots roots/list '{}'
    result_text "Client roots: $(answer_field uri)"
    ;;
  state)  # test_input_required_result_request_state, test_input_required_result_tampered_state
    ask_as confirm elicitation/create \
      '{"message":"Please confirm","requestedSchema":{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}}'
    case $ANSWER in
      *'"ok":true'*) result_text "state-ok: confirmed" ;;
      *) result_text "state-ok: not confirmed" ;;
    esac
    ;;
  multiple)  # test_input_required_result_multiple_inputs: three questions in one write
    printf '%s\n%s\n%s\n' \
      "{\"request\":{\"id\":\"user_name\",\"method\":\"elicitation/create\",\"params\":$(elicit_params 'What is your name?' name string)}}" \
      '{"request":{"id":"greeting","method":"sampling/createMessage","params":{"messages":[{"role":"user","content":{"type":"text","text":"Generate a greeting"}}],"maxTokens":50}}}' \
      '{"request":{"id":"client_roots","method":"roots/list","params":{}}}'
    read -r first
    read -r second
    read -r third
    ANSWER="$first $second $third"
    result_text "Hello, $(answer_field name)! (3 answers)"
    ;;
  multi_round)  # test_input_required_result_multi_round: the second question after the first
    ask_as step1 elicitation/create "$(elicit_params 'Step 1: What is your name?' name string)"
    name=$(answer_field name)
    ask_as step2 elicitation/create "$(elicit_params 'Step 2: What is your favorite color?' color string)"
    result_text "$name likes $(answer_field color)"
    ;;
  capabilities)  # test_input_required_result_capabilities: only what the client declared
    case $call in
      *'"elicitation":'*)
        ask_as user_name elicitation/create "$(elicit_params 'What is your name?' name string)" ;;
    esac
    case $call in
      *'"sampling":'*)
        ask_as greeting sampling/createMessage \
          '{"messages":[{"role":"user","content":{"type":"text","text":"Generate a greeting"}}],"maxTokens":50}' ;;
    esac
    result_text "Asked only what the client supports"
    ;;
  prompt)  # the prompt test_input_required_result_prompt (input-required-result-non-tool-request)
    ask_as user_context elicitation/create "$(elicit_params 'What context should the prompt use?' context string)"
    result_text "Use this context: $(answer_field context)"
    ;;
  missing_capability)  # test_missing_capability: needs sampling whatever the client declared
    ask_as completion sampling/createMessage \
      '{"messages":[{"role":"user","content":{"type":"text","text":"Say hello"}}],"maxTokens":20}'
    result_text "Sampling answer: $(answer_field text)"
    ;;
  *)
    echo "input_required.sh: unknown mode $1" >&2
    exit 2
    ;;
esac
