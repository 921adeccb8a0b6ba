#!/bin/sh
# exec tool, output "mcp", asking the client a question: a {"request": ...} line goes to the
# client (here elicitation/create); its answer comes back on stdin as one JSON line,
# {"id": 1, "result": {...}} or {"id": 1, "error": {...}}. No jq needed: the answer is passed
# back verbatim as structured content.
read -r _call
printf '{"request": {"id": 1, "method": "elicitation/create", "params": {"message": "What is your name?", "requestedSchema": {"type": "object", "properties": {"name": {"type": "string", "title": "Name"}}, "required": ["name"]}}}}\n'
read -r answer
printf '{"result": {"content": [{"type": "text", "text": "Thanks! The client answered."}], "structuredContent": {"answer": %s}}}\n' "$answer"
