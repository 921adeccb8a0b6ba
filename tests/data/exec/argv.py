#!/usr/bin/env python3
# Prints its arguments (without argv[0]) as one JSON array.
import json
import sys

print(json.dumps(sys.argv[1:]))
