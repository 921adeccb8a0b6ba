// Times whole stdio sessions of an MCP server, as a client such as Claude Desktop runs them:
// spawn, initialize, notifications/initialized, tools/list, tools/call echo, EOF on stdin, wait
// for the exit. Each request waits for its answer. Prints the mean and the best session in ms.
//
//   bench_stdio_session SESSIONS COMMAND [ARG]...
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Child {
  pid_t pid = -1;
  int in = -1;   // the child's stdin
  int out = -1;  // the child's stdout
  std::string buffer;
};

Child spawn(char** command) {
  int to_child[2];
  int from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) std::exit(3);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
  posix_spawn_file_actions_addclose(&actions, to_child[1]);
  posix_spawn_file_actions_addclose(&actions, from_child[0]);
  Child child;
  if (posix_spawnp(&child.pid, command[0], &actions, nullptr, command, environ) != 0) {
    std::perror("posix_spawnp");
    std::exit(3);
  }
  posix_spawn_file_actions_destroy(&actions);
  close(to_child[0]);
  close(from_child[1]);
  child.in = to_child[1];
  child.out = from_child[0];
  return child;
}

void send(Child& child, const std::string& line) {
  const std::string data = line + "\n";
  if (write(child.in, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    std::fprintf(stderr, "bench_stdio_session: write failed\n");
    std::exit(1);
  }
}

// Reads lines until one carries `"id":ID`; returns it.
std::string answer(Child& child, int id) {
  const std::string key1 = "\"id\":" + std::to_string(id);
  const std::string key2 = "\"id\": " + std::to_string(id);
  for (;;) {
    const auto newline = child.buffer.find('\n');
    if (newline != std::string::npos) {
      std::string line = child.buffer.substr(0, newline);
      child.buffer.erase(0, newline + 1);
      if (line.find(key1) != std::string::npos || line.find(key2) != std::string::npos)
        return line;
      continue;
    }
    pollfd pfd{child.out, POLLIN, 0};
    if (poll(&pfd, 1, 10000) <= 0) {
      std::fprintf(stderr, "bench_stdio_session: no answer to request %d\n", id);
      std::exit(1);
    }
    char chunk[65536];
    const ssize_t n = read(child.out, chunk, sizeof chunk);
    if (n <= 0) {
      std::fprintf(stderr, "bench_stdio_session: the server closed stdout (request %d)\n", id);
      std::exit(1);
    }
    child.buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

double session(char** command) {
  const auto start = std::chrono::steady_clock::now();
  Child child = spawn(command);
  send(child,
       R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
       R"("capabilities":{},"clientInfo":{"name":"bench","version":"1"}}})");
  answer(child, 1);
  send(child, R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  send(child, R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})");
  if (answer(child, 2).find("\"echo\"") == std::string::npos) {
    std::fprintf(stderr, "bench_stdio_session: tools/list has no echo tool\n");
    std::exit(1);
  }
  send(child,
       R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo",)"
       R"("arguments":{"message":"hi"}}})");
  if (answer(child, 3).find("echo: hi") == std::string::npos) {
    std::fprintf(stderr, "bench_stdio_session: tools/call did not echo\n");
    std::exit(1);
  }
  close(child.in);
  int status = 0;
  waitpid(child.pid, &status, 0);
  close(child.out);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench_stdio_session: the server exited with status %d\n", status);
    std::exit(1);
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_stdio_session SESSIONS COMMAND [ARG]...\n");
    return 2;
  }
  const int sessions = std::atoi(argv[1]);
  session(argv + 2);  // warm the page cache
  double total = 0;
  double best = 1e9;
  for (int i = 0; i < sessions; ++i) {
    const double ms = session(argv + 2);
    total += ms;
    if (ms < best) best = ms;
  }
  std::printf("%.3f %.3f\n", total / sessions, best);
  return 0;
}
