#!/bin/sh
# A tool that fails: non-zero exit with a reason on stderr.
echo "something went wrong" >&2
exit 3
