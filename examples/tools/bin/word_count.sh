#!/bin/sh
# exec tool, output "text": whatever this prints on stdout is the tool's answer.
# The text arrives as argv[1] ("{text}" in the descriptor); the call itself is also on stdin
# as one JSON line, which this script does not need.
text=$1
lines=$(printf '%s\n' "$text" | wc -l)
words=$(printf '%s' "$text" | wc -w)
chars=$(printf '%s' "$text" | wc -m)
echo "$lines line(s), $words word(s), $chars character(s)"
