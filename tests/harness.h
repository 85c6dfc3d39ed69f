// The harness of the end-to-end tests: real binaries (`jaring`,
// `jaringctl`) run as child processes, their output captured to files.
// Header-only; every function is for tests and may abort them with gtest
// failures.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "libs/testing/temp_dir.h"

namespace jaring::e2e {

using ::jaring::testing::TempDir;

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Forks and execs argv with stdin from /dev/null and stdout/stderr appended
// to the given files. Returns the child's pid (or -1).
inline pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int err = err_path == out_path ? out : open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Waits up to `limit` for `pid`; SIGKILLs it after that. Returns the raw
// wait status, or nullopt if it had to be killed.
inline std::optional<int> WaitFor(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return std::nullopt;
}

struct CtlResult {
  int exit_code = -1;  // -1: killed (timeout) or did not exit normally
  std::string out;
  std::string err;
  std::string Both() const { return out + err; }
};

inline std::ostream& operator<<(std::ostream& os, const CtlResult& r) {
  return os << "exit " << r.exit_code << "\n--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err;
}

// Runs jaringctl with `args` (no --target added) and captures everything.
inline CtlResult RunCtl(const TempDir& scratch, const std::vector<std::string>& args) {
  static int n = 0;
  ++n;
  const std::string out = scratch.Sub("ctl-" + std::to_string(n) + ".out");
  const std::string err = scratch.Sub("ctl-" + std::to_string(n) + ".err");
  std::vector<std::string> argv = {JARINGCTL_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  CtlResult r;
  pid_t pid = Spawn(argv, out, err);
  if (pid < 0) return r;
  std::optional<int> status = WaitFor(pid, std::chrono::seconds(120));
  if (status && WIFEXITED(*status)) r.exit_code = WEXITSTATUS(*status);
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  return r;
}

// `jaring serve` with stdout and stderr going to one log file.
class Server {
 public:
  Server(const std::string& data_dir, const std::string& log_path, std::vector<std::string> extra = {},
         const std::string& listen = "127.0.0.1:0")
      : log_path_(log_path) {
    std::vector<std::string> argv = {JARING_BIN, "serve", "--data", data_dir, "--listen", listen};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = Spawn(argv, log_path, log_path);
  }
  ~Server() {
    if (pid_ > 0 && !stopped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Waits for "listening on HOST:PORT" (bounded); returns HOST:PORT.
  std::optional<std::string> WaitListening() {
    for (int i = 0; i < 6000; ++i) {  // 60 s
      const std::string log = ReadAll(log_path_);
      size_t at = log.find("listening on ");
      if (at != std::string::npos) {
        size_t begin = at + 13;
        size_t end = log.find_first_of(" \n", begin);
        if (end != std::string::npos) return log.substr(begin, end - begin);
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        stopped_ = true;
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

  // SIGTERM; the raw wait status, or nullopt if it had to be killed.
  std::optional<int> Stop() {
    if (stopped_) return std::nullopt;
    kill(pid_, SIGTERM);
    stopped_ = true;
    return WaitFor(pid_, std::chrono::seconds(30));
  }

  // SIGKILL: no shutdown, nothing flushed but what was already durable.
  void Kill() {
    if (stopped_) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    stopped_ = true;
  }

  std::string Log() const { return ReadAll(log_path_); }
  pid_t pid() const { return pid_; }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  bool stopped_ = false;
};

// A loopback port nothing listens on (bound, then released).
inline int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace jaring::e2e
