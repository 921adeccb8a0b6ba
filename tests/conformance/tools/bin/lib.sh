# Shared by the conformance tools: JSON string escaping for values passed on the command line
# or read back from mcpd (backslashes and quotes; the input has no raw control characters).
json_escape() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr '\n\t' '  '
}

# Sends one request (METHOD, PARAMS as JSON) to the client through mcpd and reads the client's
# answer line ({"id":..,"result":..} or {"id":..,"error":..}) into $ANSWER.
ask_client() {
  printf '{"request":{"id":1,"method":"%s","params":%s}}\n' "$1" "$2"
  read -r ANSWER
}

# The final CallToolResult with one text block.
result_text() {
  printf '{"result":{"content":[{"type":"text","text":"%s"}]}}\n' "$(json_escape "$1")"
}

# Like ask_client, with the request id KEY (a string): a 2026-07-28 client sees the question
# as InputRequiredResult.inputRequests.KEY, and its answer comes back under the same key. An
# error answer ends the program (a tool error naming it).
ask_as() {
  printf '{"request":{"id":"%s","method":"%s","params":%s}}\n' "$1" "$2" "$3"
  read -r ANSWER
  case $ANSWER in
    *'"error":'*) echo "no answer to $1: $ANSWER" >&2; exit 1 ;;
  esac
}

# The string value of FIELD in the JSON text $ANSWER (first match; enough for flat answers).
answer_field() {
  printf '%s' "$ANSWER" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"
}

# An elicitation/create params object: MESSAGE and one required property NAME of TYPE.
elicit_params() {
  printf '{"message":"%s","requestedSchema":{"type":"object","properties":{"%s":{"type":"%s"}},"required":["%s"]}}' \
    "$1" "$2" "$3" "$2"
}
