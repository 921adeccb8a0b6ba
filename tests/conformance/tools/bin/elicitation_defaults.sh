#!/bin/sh
# test_elicitation_sep1034_defaults: an elicitation whose schema gives every primitive type a
# default (SEP-1034).
set -eu
. "$(dirname "$0")/lib.sh"
read -r _call || true
ask_client elicitation/create "{\"message\":\"Please review and update the form fields with defaults\",\
\"requestedSchema\":{\"type\":\"object\",\"properties\":{\
\"name\":{\"type\":\"string\",\"description\":\"User name\",\"default\":\"John Doe\"},\
\"age\":{\"type\":\"integer\",\"description\":\"User age\",\"default\":30},\
\"score\":{\"type\":\"number\",\"description\":\"User score\",\"default\":95.5},\
\"status\":{\"type\":\"string\",\"description\":\"User status\",\"enum\":[\"active\",\"inactive\",\"pending\"],\"default\":\"active\"},\
\"verified\":{\"type\":\"boolean\",\"description\":\"Verification status\",\"default\":true}}}}"
result_text "Elicitation completed: $ANSWER"
