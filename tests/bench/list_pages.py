#!/usr/bin/env python3
"""Time to fetch a whole tool catalog: tools/list, then every nextCursor page, over one
keep-alive connection to a --stateless mcpd. The client does not parse the pages (a regex
finds the cursor, a count of "inputSchema" the tools), so the time is the server's and the
loopback's. Prints: PAGES TOOLS FIRST_PAGE_SIZE MEDIAN_MS BEST_MS

    list_pages.py PORT TOKEN [ROUNDS]
"""
import http.client
import re
import statistics
import sys
import time

CURSOR = re.compile(rb'"nextCursor"\s*:\s*"((?:[^"\\]|\\.)*)"')


def fetch_all(conn, token):
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Authorization": f"Bearer {token}",
    }
    cursor, pages, tools, first = None, 0, 0, 0
    while True:
        params = "{}" if cursor is None else '{"cursor":"%s"}' % cursor
        body = '{"jsonrpc":"2.0","id":%d,"method":"tools/list","params":%s}' % (pages + 1, params)
        conn.request("POST", "/mcp", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200 or b'"result"' not in data:
            raise SystemExit(f"list_pages: page {pages + 1}: {response.status} {data[:200]!r}")
        count = data.count(b'"inputSchema"')
        pages += 1
        tools += count
        if pages == 1:
            first = count
        match = CURSOR.search(data)
        if not match:
            return pages, tools, first
        cursor = match.group(1).decode()


def main():
    if len(sys.argv) < 3:
        raise SystemExit("usage: list_pages.py PORT TOKEN [ROUNDS]")
    port, token = int(sys.argv[1]), sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    fetch_all(conn, token)  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        pages, tools, first = fetch_all(conn, token)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{pages} {tools} {first} {statistics.median(times):.2f} {min(times):.2f}")


if __name__ == "__main__":
    main()
