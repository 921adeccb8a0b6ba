#!/bin/sh
read -r _line
printf '{"progress": 1, "total": 2, "message": "one"}\n'
printf '{"progress": 2, "total": 2, "message": "two"}\n'
printf '{"result": {"content": [{"type": "text", "text": "done"}]}}\n'
