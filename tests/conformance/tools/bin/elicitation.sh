#!/bin/sh
# test_elicitation MESSAGE: asks the user for a username and an e-mail address.
set -eu
. "$(dirname "$0")/lib.sh"
read -r _call || true
message=$(json_escape "$1")
ask_client elicitation/create "{\"message\":\"$message\",\"requestedSchema\":{\
\"type\":\"object\",\"properties\":{\
\"username\":{\"type\":\"string\",\"description\":\"User's response\"},\
\"email\":{\"type\":\"string\",\"description\":\"User's email address\"}},\
\"required\":[\"username\",\"email\"]}}"
result_text "User response: $ANSWER"
