// Opens COUNT legacy SSE streams (GET /sse) to 127.0.0.1:PORT, waits until each one has
// received its `endpoint` event, prints how many it holds, then holds them until killed.
//
//   bench_sse_hold PORT COUNT TOKEN
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
int open_stream(int port, const std::string& request) {
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
  while (received.find("event: endpoint") == std::string::npos) {
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
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_sse_hold PORT COUNT TOKEN\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int count = std::atoi(argv[2]);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  signal(SIGPIPE, SIG_IGN);

  const std::string request = "GET /sse HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nAccept: text/event-stream\r\nAuthorization: Bearer " + argv[3] +
                              "\r\n\r\n";
  std::vector<int> streams;
  int failed = 0;
  for (int i = 0; i < count; ++i) {
    const int fd = open_stream(port, request);
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
