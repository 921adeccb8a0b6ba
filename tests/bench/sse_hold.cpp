// Opens COUNT idle streams to 127.0.0.1:PORT, waits until each one has received its first
// event, prints how many it holds (and how many failed), then holds them until killed.
//   legacy (default): GET /sse, waits for the `endpoint` event;
//   listen: POST /mcp with a 2026-07-28 `subscriptions/listen` (tools list changes), waits for
//           the acknowledgement.
//
//   bench_sse_hold PORT COUNT TOKEN [legacy|listen]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// One stream; -1 when it could not be opened.
int open_stream(int port, const std::string& request, const char* first_event) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return -1;
  }
  std::string received;
  while (received.find(first_event) == std::string::npos) {
    pollfd pfd{fd, POLLIN, 0};
    char chunk[4096];
    ssize_t n = 0;
    if (poll(&pfd, 1, 10000) <= 0 || (n = read(fd, chunk, sizeof chunk)) <= 0) {
      std::fprintf(stderr, "bench_sse_hold: stream %zu: %s\n", received.size(),
                   received.substr(0, 120).c_str());
      close(fd);
      return -1;
    }
    received.append(chunk, static_cast<std::size_t>(n));
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 5 ? argv[4] : "legacy";
  if ((argc != 4 && argc != 5) || (mode != "legacy" && mode != "listen")) {
    std::fprintf(stderr, "usage: bench_sse_hold PORT COUNT TOKEN [legacy|listen]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int count = std::atoi(argv[2]);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  signal(SIGPIPE, SIG_IGN);

  const std::string host = "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  const std::string auth = std::string{"Authorization: Bearer "} + argv[3] + "\r\n";
  std::string request;
  const char* first_event = "event: endpoint";
  if (mode == "legacy") {
    request = "GET /sse HTTP/1.1\r\n" + host + "Accept: text/event-stream\r\n" + auth + "\r\n";
  } else {
    const std::string body =
        R"({"jsonrpc":"2.0","id":"listen","method":"subscriptions/listen","params":{"_meta":{)"
        R"("io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
        R"("io.modelcontextprotocol/clientCapabilities":{}},)"
        R"("notifications":{"toolsListChanged":true}}})";
    request = "POST /mcp HTTP/1.1\r\n" + host + auth +
              "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
              "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: subscriptions/listen\r\n"
              "Content-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body;
    first_event = "notifications/subscriptions/acknowledged";
  }
  std::vector<int> streams;
  int failed = 0;
  for (int i = 0; i < count; ++i) {
    const int fd = open_stream(port, request, first_event);
    if (fd < 0) {
      if (++failed > 10) break;
      continue;
    }
    streams.push_back(fd);
  }
  std::printf("%zu %d\n", streams.size(), failed);
  std::fflush(stdout);
  pause();
  return 0;
}
