// jaringctl status (a family's own masked status: the public lookup) and
// jaringctl access (who looked at a family's data: for oversight).
#pragma once

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "tools/jaringctl/client.h"

namespace jaring::ctl {

struct StatusFlags {
  std::string kk_number;
  std::string nik;
};

struct AccessFlags {
  std::string kk_number, region_prefix, subject;
  std::string from, to;
  int32_t page_size = 0;
  std::string page_token;
};

int RunStatus(const GlobalFlags& g, const StatusFlags& f);
int RunAccess(const GlobalFlags& g, const AccessFlags& f);

class AccessCommands {
 public:
  explicit AccessCommands(CLI::App& app);
  AccessCommands(const AccessCommands&) = delete;
  AccessCommands& operator=(const AccessCommands&) = delete;
  std::optional<int> Run(const GlobalFlags& g) const;

 private:
  StatusFlags status_;
  AccessFlags access_;
  CLI::App* status_cmd_ = nullptr;
  CLI::App* access_cmd_ = nullptr;
};

}  // namespace jaring::ctl
