#!/usr/bin/env python3
"""Exactly COUNT authenticated stateless tools/call requests of the echo tool (the request
tools_call.lua sends, ids "1-1", "1-2", ...), one after another on one keep-alive connection,
each answer checked. For counting what the server does per request (allocations under
heaptrack): wrk stops on a clock, this on a count. Prints nothing; exits non-zero on a bad
answer. With "2026", the same call as a 2026-07-28 request (the bench's modern_body: no
session, the envelope in _meta, the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers).

    call_loop.py PORT TOKEN COUNT [2026]
"""
import socket
import sys

BODY = ('{"jsonrpc":"2.0","id":"1-%d","method":"tools/call",'
        '"params":{"name":"echo","arguments":{"message":"hello"}}}')
MODERN_BODY = ('{"jsonrpc":"2.0","id":"1-%d","method":"tools/call",'
               '"params":{"name":"echo","arguments":{"message":"hello"},'
               '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
               '"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"},'
               '"io.modelcontextprotocol/clientCapabilities":{}}}}')
MODERN_HEADERS = (b"MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\n"
                  b"Mcp-Name: echo\r\n")


def read_response(sock, pending):
    """One response (Content-Length framed) from `sock`; returns (status, body, rest)."""
    while b"\r\n\r\n" not in pending:
        data = sock.recv(65536)
        if not data:
            raise SystemExit("call_loop: the server closed the connection")
        pending += data
    head, _, rest = pending.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            raise SystemExit("call_loop: the server closed the connection")
        rest += data
    return status, rest[:length], rest[length:]


def main():
    if len(sys.argv) not in (4, 5) or (len(sys.argv) == 5 and sys.argv[4] != "2026"):
        raise SystemExit("usage: call_loop.py PORT TOKEN COUNT [2026]")
    port, token, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    modern = len(sys.argv) == 5
    template, extra = (MODERN_BODY, MODERN_HEADERS) if modern else (BODY, b"")
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = b""
    for n in range(1, count + 1):
        body = (template % n).encode()
        request = ((b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    b"Content-Type: application/json\r\n"
                    b"Accept: application/json, text/event-stream\r\n" % port) + extra +
                   b"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n"
                   % (token.encode(), len(body)) + body)
        sock.sendall(request)
        status, answer, pending = read_response(sock, pending)
        if status != 200 or b"echo: hello" not in answer:
            raise SystemExit(f"call_loop: request {n}: {status} {answer[:200]!r}")
    sock.close()


if __name__ == "__main__":
    main()
