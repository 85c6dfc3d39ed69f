// Runs a program as a child process with its stdout on a pipe, for tests
// that start real servers (jaring serve, jaring devbroker). The child is
// killed (SIGKILL) on destruction if still running.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace jaring::testing {

class Subprocess {
 public:
  explicit Subprocess(std::vector<std::string> argv) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
  }
  ~Subprocess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ != nullptr) fclose(out_);
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // The next line of the child's stdout without the newline; nullopt at EOF.
  std::optional<std::string> ReadLine() {
    if (out_ == nullptr) return std::nullopt;
    char* line = nullptr;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, out_);
    if (n < 0) {
      free(line);
      return std::nullopt;
    }
    std::string s(line, static_cast<size_t>(n));
    free(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

  // Reads lines until one starts with `prefix`; returns it, or nullopt at EOF.
  std::optional<std::string> ReadUntil(const std::string& prefix) {
    while (auto line = ReadLine()) {
      if (line->rfind(prefix, 0) == 0) return line;
    }
    return std::nullopt;
  }

  // Sends `sig` and waits; returns the raw wait status.
  int Stop(int sig) {
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  bool exited_ = false;
};

}  // namespace jaring::testing
