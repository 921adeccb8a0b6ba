#!/bin/sh
# Reads the call line (ignored) and answers with a JSON object naming its argument.
read -r _line
printf '{"n": %s, "pid": %s}\n' "$1" "$$"
