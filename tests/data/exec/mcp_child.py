#!/usr/bin/env python3
# An exec child speaking the "mcp" output mode; what it does depends on arguments.mode.
import json
import sys
import time


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


call = json.loads(sys.stdin.readline())
mode = call["arguments"].get("mode", "basic")

if mode == "basic":
    send({"progress": 1, "total": 2, "message": "half way"})
    send({"log": {"level": "info", "logger": "child", "data": {"step": 1}}})
    print()  # blank lines are tolerated
    send({"progress": 2})
    send({"result": {"content": [{"type": "text", "text": "done " + call["tool"]}],
                     "structuredContent": {"steps": 2}}})
elif mode == "request":
    # Asks the client, then echoes the answer (and what it sent) back in its result.
    send({"request": {"id": "q1", "method": "elicitation/create",
                      "params": {"message": "your name?"}}})
    answer = json.loads(sys.stdin.readline())
    send({"result": {"content": [{"type": "text", "text": "answered"}],
                     "structuredContent": {"answer": answer}}})
elif mode == "forbidden":
    send({"request": {"id": 3, "method": "tools/call", "params": {}}})
    answer = json.loads(sys.stdin.readline())
    send({"result": {"content": [], "structuredContent": {"answer": answer}}})
elif mode == "linger":
    # Prints its result, then ignores stdin EOF and stays.
    send({"result": {"content": [{"type": "text", "text": "early"}]}})
    time.sleep(100)
elif mode == "bad":
    sys.stdout.write("this is not json\n")
    sys.stdout.flush()
    time.sleep(100)
elif mode == "no_result":
    send({"progress": 1})
    sys.stderr.write("gave up\n")
    sys.exit(4)
elif mode == "unterminated":
    sys.stdout.write(json.dumps({"result": {"content": [{"type": "text", "text": "last"}]}}))
