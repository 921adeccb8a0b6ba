// The floor for the exec handler: fork, exec and wait for a program in a loop, on PARALLEL
// threads at once, for SECONDS; prints the executions per second.
//
//   bench_spawn_loop SECONDS PARALLEL PROGRAM [ARG]...
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_spawn_loop SECONDS PARALLEL PROGRAM [ARG]...\n");
    return 2;
  }
  const double seconds = std::atof(argv[1]);
  const int parallel = std::atoi(argv[2]);
  char** command = argv + 3;
  std::atomic<long> runs{0};
  std::atomic<long> failures{0};
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < parallel; ++t) {
    threads.emplace_back([&] {
      while (std::chrono::steady_clock::now() < until) {
        const pid_t pid = fork();
        if (pid == 0) {
          execv(command[0], command);
          _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
          ++failures;
        else
          ++runs;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.1f %ld\n", static_cast<double>(runs) / elapsed, failures.load());
  return failures > 0 ? 1 : 0;
}
