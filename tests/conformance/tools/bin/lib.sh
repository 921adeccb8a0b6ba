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
