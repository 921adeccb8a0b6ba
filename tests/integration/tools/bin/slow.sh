#!/bin/sh
# Records its pid (the sleep keeps it through exec), then sleeps: for timeout, cancellation
# and shutdown tests, which check afterwards that the process is gone.
echo $$ > "$1.tmp" && mv "$1.tmp" "$1"
exec sleep "$2"
