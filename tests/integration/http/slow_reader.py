#!/usr/bin/env python3
"""A client that asks for large answers and never reads them, for edge.test.mjs.

slow_reader.py PORT SESSION CLIENTS MAX_HOLD_SECONDS: opens CLIENTS connections with a tiny
receive buffer (so the kernel cannot absorb the answer for it), sends a resources/read request
for test://big (a 6 MiB answer) on each, reads nothing until a line arrives on stdin (the test
has seen what it waits for) or MAX_HOLD_SECONDS pass, then drains each connection and prints one
JSON line: [{"bytes": n, "ended": true|false}, ...] ("ended": the server had closed it).
"""
import json
import select
import socket
import sys

port, session, clients, hold = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": "test://big"}})
request = (
    f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
    f"Accept: application/json, text/event-stream\r\nMcp-Session-Id: {session}\r\n"
    f"MCP-Protocol-Version: 2025-11-25\r\nContent-Length: {len(body)}\r\n\r\n{body}"
).encode()

sockets = []
for _ in range(clients):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(request)
    sockets.append(s)
print("sent", flush=True)
select.select([sys.stdin], [], [], hold)

results = []
for s in sockets:
    s.settimeout(5)
    total, ended = 0, False
    try:
        while True:
            data = s.recv(1 << 20)
            if not data:
                ended = True
                break
            total += len(data)
    except ConnectionResetError:
        ended = True
    except socket.timeout:
        pass
    s.close()
    results.append({"bytes": total, "ended": ended})
print(json.dumps(results), flush=True)
