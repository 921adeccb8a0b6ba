#!/bin/sh
# slow PID_FILE SECONDS: records its pid (so a test can watch the process), sleeps, answers.
set -eu
read -r _call || true
printf '%s\n' "$$" > "$1.tmp"
mv "$1.tmp" "$1"
sleep "$2"
echo "slept $2 s"
