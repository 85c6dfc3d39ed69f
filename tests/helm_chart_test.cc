// Checks that the deployment files agree with each other and with the code:
// the Helm chart's templates use only values that values.yaml defines, every
// service (the four writers and the read-only audit) has a StatefulSet
// serving it on its own port with --metrics on the metrics port, HTTP probes
// on /readyz and /healthz there, and a Service, is admitted by the
// NetworkPolicy and named in NOTES.txt; the writers refuse a second replica
// and the audit does not; the keys that must outlive a cache volume (the
// appeals filer key, the audit's export key) come from elsewhere; the
// partition counts in values.yaml, the chart's topic Job and compose.yaml
// equal events::kDefaultTopics; compose.yaml and the systemd units run
// `jaring serve` with --metrics.
//
// Each check takes a repository root and returns the problems it found, so
// it runs against this repository (no problems) and against broken copies
// in a temporary directory (the problem is named). Helm itself is not run:
// templates are read as text, and only full .Values paths are followed
// (not paths relative to `with` or `range`).
#include <yaml-cpp/yaml.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libs/events/topics.h"
#include "libs/testing/temp_dir.h"

namespace jaring {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Problems = std::vector<std::string>;

// What the chart, compose.yaml and jaring@.service run, one process each.
struct Component {
  std::string_view name;
  // Owns its topic (jaring.<name>.v1) and is its single writer: 0 or 1
  // replica, and the StatefulSet template refuses more. The audit reads the
  // topics, owns none, and may run any number of replicas.
  bool single_writer;
  // A key that must not live on the cache volume: the flag that passes it,
  // and the value under services.<name> naming the Secret it is mounted
  // from. Empty: none.
  std::string_view key_flag = {};
  std::string_view key_secret = {};
  // Whether the key is required (the Secret's name may not be empty, and the
  // template refuses an empty one) or may be left to the volume (appeals).
  bool key_required = false;
};

constexpr std::array<Component, 5> kServices = {{
    {.name = "population", .single_writer = true},
    {.name = "eligibility", .single_writer = true},
    {.name = "appeals", .single_writer = true, .key_flag = "--appeals-key", .key_secret = "filerKeySecret"},
    {.name = "ledger", .single_writer = true},
    {.name = "audit",
     .single_writer = false,
     .key_flag = "--export-key",
     .key_secret = "exportKeySecret",
     .key_required = true},
}};

// The topics as the deployment files name them. TopicListMatchesTheCode
// compares it with kDefaultTopics, so a topic added to the code fails here
// until the chart, compose.yaml and this list have it.
constexpr std::array<std::string_view, 6> kDeployedTopics = {
    "jaring.population.v1", "jaring.rules.v1", "jaring.eligibility.v1", "jaring.appeals.v1",
    "jaring.ledger.v1", "jaring.access.v1"};

fs::path ChartDir(const fs::path& root) { return root / "helm" / "jaring"; }

std::optional<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The parsed file, or nullopt with a problem naming it.
std::optional<YAML::Node> LoadYaml(const fs::path& path, Problems& problems) {
  try {
    return YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    problems.push_back(path.string() + ": " + e.what());
    return std::nullopt;
  }
}

// A map's entry, following YAML merge keys ("<<: *anchor", which
// compose.yaml uses and yaml-cpp 0.7 leaves as a plain key); an own key wins.
std::optional<YAML::Node> Child(const YAML::Node& map, const std::string& key) {
  if (!map.IsMap()) return std::nullopt;
  if (const YAML::Node own = map[key]; own.IsDefined()) return own;
  const YAML::Node merged = map["<<"];
  if (!merged.IsDefined()) return std::nullopt;  // a missing key is an invalid node: no IsMap()
  if (merged.IsMap()) return Child(merged, key);
  if (merged.IsSequence()) {
    for (const auto& m : merged) {
      if (auto found = Child(m, key)) return found;
    }
  }
  return std::nullopt;
}

// The node at a dotted path ("services.population.port"), or nullopt when a
// step is missing or is not a map. (Never assign one YAML::Node to another
// here: yaml-cpp's operator= overwrites the node in the tree.)
std::optional<YAML::Node> Lookup(const YAML::Node& node, std::string_view dotted) {
  const auto dot = dotted.find('.');
  auto child = Child(node, std::string(dotted.substr(0, dot)));
  if (!child || dot == std::string_view::npos) return child;
  return Lookup(*child, dotted.substr(dot + 1));
}

std::optional<long> AsInt(const YAML::Node& node) {
  if (!node.IsScalar()) return std::nullopt;
  try {
    return node.as<long>();
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

std::string ShortName(std::string_view topic) {  // "jaring.population.v1" -> "population"
  const auto first = topic.find('.');
  const auto last = topic.rfind('.');
  return std::string(topic.substr(first + 1, last - first - 1));
}

std::string RegexEscape(std::string_view s) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(std::string(s), special, R"(\$&)");
}

// "{{ .Values.services.population.port }}", spaces and dashes allowed.
std::string ValueRef(std::string_view path) {
  return R"(\{\{-?\s*\$?\.Values\.)" + RegexEscape(path) + R"(\s*-?\}\})";
}

// The lines under `key:` (e.g. "readinessProbe") that are indented deeper
// than it, or nullopt when no line is `key:` alone.
std::optional<std::string> Block(const std::string& text, std::string_view key) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(R"((^|\n)([ \t]*))" + RegexEscape(key) + R"(:[ \t]*(\n|$))"))) {
    return std::nullopt;
  }
  const size_t indent = m[2].length();
  std::string block;
  std::istringstream in(text.substr(m.position(0) + m.length(0)));
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t");
    if (first != std::string::npos && first <= indent) break;
    block += line + "\n";
  }
  return block;
}

Problems CheckChartMetadata(const fs::path& root) {
  Problems problems;
  const fs::path file = ChartDir(root) / "Chart.yaml";
  const auto chart = LoadYaml(file, problems);
  if (!chart) return problems;
  const auto field = [&](const char* key) -> std::string {
    const auto node = Lookup(*chart, key);
    return node && node->IsScalar() ? node->Scalar() : "";
  };
  if (field("apiVersion") != "v2") problems.push_back(file.string() + ": apiVersion must be v2");
  if (field("name").empty()) problems.push_back(file.string() + ": name is missing");
  if (!std::regex_match(field("version"), std::regex(R"(\d+\.\d+\.\d+.*)"))) {
    problems.push_back(file.string() + ": version must be a semantic version");
  }
  return problems;
}

// Every .Values.a.b.c in a template must be defined in values.yaml.
Problems CheckValueReferences(const fs::path& root) {
  Problems problems;
  const auto values = LoadYaml(ChartDir(root) / "values.yaml", problems);
  if (!values) return problems;
  static const std::regex ref(R"(\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+))");
  int templates = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(ChartDir(root) / "templates", ec)) {
    if (!entry.is_regular_file()) continue;
    ++templates;
    const auto text = ReadText(entry.path());
    if (!text) continue;
    for (auto it = std::sregex_iterator(text->begin(), text->end(), ref); it != std::sregex_iterator();
         ++it) {
      const std::string path = (*it)[1].str().substr(1);
      if (!Lookup(*values, path)) {
        problems.push_back(entry.path().filename().string() + ": .Values." + path +
                           " is not defined in values.yaml");
      }
    }
  }
  if (templates == 0) problems.push_back("no templates in " + (ChartDir(root) / "templates").string());
  return problems;
}

// Each service: values (port, replicas, resources, storage), a StatefulSet
// that serves it on its port with --metrics on metrics.port, HTTP probes on
// metrics.port (/readyz for startup and readiness, /healthz for liveness)
// and Prometheus annotations, and a Service; the NetworkPolicy selects its
// pods and admits its port, NOTES.txt names it. A single writer has 0 or 1
// replicas and its template refuses more; the audit may have any number.
// A service's key (appeals, audit) is passed from a mounted Secret.
Problems CheckServices(const fs::path& root) {
  Problems problems;
  const auto values = LoadYaml(ChartDir(root) / "values.yaml", problems);
  if (!values) return problems;
  const auto non_root = Lookup(*values, "podSecurityContext.runAsNonRoot");
  if (!non_root || !non_root->IsScalar() || non_root->Scalar() != "true") {
    problems.push_back("values.yaml: podSecurityContext.runAsNonRoot must be true");
  }
  const auto helpers = ReadText(ChartDir(root) / "templates" / "_helpers.tpl");
  if (!helpers || !std::regex_search(*helpers, std::regex(R"(define "jaring\.podSpec"[\s\S]*securityContext:[\s\S]*)"
                                                         R"(terminationGracePeriodSeconds:)"))) {
    problems.push_back("templates/_helpers.tpl: jaring.podSpec must set securityContext and "
                       "terminationGracePeriodSeconds");
  }
  const auto metrics_port = Lookup(*values, "metrics.port");
  // 0 when missing or not a port (a plain long: GCC 12 warns on comparing optionals here).
  long metrics_number = metrics_port ? AsInt(*metrics_port).value_or(0) : 0;
  if (metrics_number < 1 || metrics_number > 65535) {
    problems.push_back("values.yaml: metrics.port must be a port number");
    metrics_number = 0;
  }
  const std::string metrics_ref = ValueRef("metrics.port");
  const auto policy = ReadText(ChartDir(root) / "templates" / "networkpolicy.yaml");
  if (!policy || !std::regex_search(*policy, std::regex(R"(port:\s*)" + metrics_ref))) {
    problems.push_back("templates/networkpolicy.yaml: does not admit metrics.port");
  }
  // The components the NetworkPolicy's podSelector lists ("values: [a, b]").
  std::set<std::string> selected;
  if (std::smatch m; policy && std::regex_search(*policy, m, std::regex(R"(values:\s*\[([^\]]*)\])"))) {
    static const std::regex word(R"([A-Za-z0-9_-]+)");
    const std::string list = m[1].str();
    for (auto it = std::sregex_iterator(list.begin(), list.end(), word); it != std::sregex_iterator(); ++it) {
      selected.insert(it->str());
    }
  }
  const auto notes = ReadText(ChartDir(root) / "templates" / "NOTES.txt");
  if (!notes) problems.push_back("templates/NOTES.txt is missing");
  std::set<long> ports;
  for (const Component& component : kServices) {
    const std::string_view svc = component.name;
    const std::string key = "services." + std::string(svc);
    const auto port = Lookup(*values, key + ".port");
    const auto port_number = port ? AsInt(*port) : std::nullopt;
    if (!port_number || *port_number < 1 || *port_number > 65535) {
      problems.push_back("values.yaml: " + key + ".port must be a port number");
    } else if (!ports.insert(*port_number).second) {
      problems.push_back("values.yaml: " + key + ".port is used by another service");
    } else if (*port_number == metrics_number) {
      problems.push_back("values.yaml: " + key + ".port is metrics.port");
    }
    for (const char* field : {".replicas", ".resources", ".storage.size"}) {
      if (!Lookup(*values, key + field)) problems.push_back("values.yaml: " + key + field + " is missing");
    }
    if (const auto replicas = Lookup(*values, key + ".replicas")) {
      const long n = AsInt(*replicas).value_or(-1);
      if (component.single_writer && (n < 0 || n > 1)) {
        problems.push_back("values.yaml: " + key + ".replicas must be 0 or 1 (a single writer)");
      } else if (n < 0) {
        problems.push_back("values.yaml: " + key + ".replicas must be a number >= 0");
      }
    }
    const std::string secret_key = key + "." + std::string(component.key_secret);
    if (!component.key_secret.empty()) {
      const auto secret = Lookup(*values, secret_key);
      if (!secret) {
        problems.push_back("values.yaml: " + secret_key + " is missing");
      } else if (component.key_required && (!secret->IsScalar() || secret->Scalar().empty())) {
        problems.push_back("values.yaml: " + secret_key + " must name a Secret (the key must not live on the volume)");
      }
    }

    const std::string sts_name = std::string(svc) + "-statefulset.yaml";
    const std::string svc_name = std::string(svc) + "-service.yaml";
    const auto sts = ReadText(ChartDir(root) / "templates" / sts_name);
    const auto service = ReadText(ChartDir(root) / "templates" / svc_name);
    if (!sts) problems.push_back("templates/" + sts_name + " is missing");
    if (!service) problems.push_back("templates/" + svc_name + " is missing");
    const std::string port_ref = ValueRef(key + ".port");

    if (sts) {
      const auto expect = [&](const std::string& pattern, const std::string& what) {
        if (!std::regex_search(*sts, std::regex(pattern))) {
          problems.push_back("templates/" + sts_name + ": " + what);
        }
      };
      expect(R"(kind:\s*StatefulSet)", "not a StatefulSet");
      expect(R"(-\s*serve\s*\n\s*-\s*)" + std::string(svc) + R"(\s*\n)", "args do not start with `serve " +
                                                                             std::string(svc) + "`");
      expect(R"(--listen\s*\n\s*-\s*"0\.0\.0\.0:)" + port_ref + "\"", "--listen is not on " + key + ".port");
      expect(R"(containerPort:\s*)" + port_ref, "containerPort is not " + key + ".port");
      expect(R"(--kafka)", "no --kafka");
      expect(R"(volumeClaimTemplates:)", "no volumeClaimTemplates");
      // Pod security context and terminationGracePeriodSeconds.
      expect(R"(include\s+"jaring\.podSpec")", "does not include jaring.podSpec");
      // One writer per topic: the template refuses a second replica. A
      // reader (the audit) must not.
      const std::string replicas_ref = RegexEscape(".Values." + key + ".replicas");
      if (component.single_writer) {
        expect(R"(\{\{-?\s*if\s+gt\s+\(int\s+)" + replicas_ref + R"(\)\s+1\s*-?\}\}\s*\{\{-?\s*fail\s)",
               "does not refuse replicas above 1 (a single writer)");
      } else if (std::regex_search(*sts, std::regex(R"(fail\s+"[^"]*replicas)"))) {
        problems.push_back("templates/" + sts_name + ": refuses replicas, but " + std::string(svc) +
                           " only reads and may run several");
      }
      // The key is a file from a Secret mounted outside the volume
      // (/var/lib/jaring), so that deleting the volume to rebuild it keeps
      // the key, and every replica has the same one.
      if (!component.key_flag.empty()) {
        const std::string flag(component.key_flag);
        std::smatch m;
        if (!std::regex_search(*sts, m, std::regex(RegexEscape(flag) + R"(\s*\n\s*-\s*(/\S+))"))) {
          problems.push_back("templates/" + sts_name + ": no " + flag + " (the key must not live on the cache volume)");
        } else {
          const std::string path = m[1].str();
          const std::string dir = path.substr(0, path.rfind('/'));
          if (path.rfind("/var/lib/jaring/", 0) == 0) {
            problems.push_back("templates/" + sts_name + ": " + flag + " " + path + " is on the cache volume");
          }
          expect(R"(mountPath:\s*)" + RegexEscape(dir) + R"(\s*\n)", "mounts nothing at " + dir + " for " + flag);
        }
        expect(R"(secretName:\s*)" + ValueRef(secret_key), "mounts no Secret named by " + secret_key);
        if (component.key_required) {
          expect(R"(\{\{-?\s*if\s+not\s+)" + RegexEscape(".Values." + secret_key) +
                     R"(\s*-?\}\}\s*\{\{-?\s*fail\s)",
                 "does not refuse an empty " + secret_key);
        }
      }
      expect(R"(--metrics\s*\n\s*-\s*"0\.0\.0\.0:)" + metrics_ref + "\"", "no --metrics on metrics.port");
      expect(R"(-\s*name:\s*metrics\s*\n\s*containerPort:\s*)" + metrics_ref,
             "no container port `metrics` on metrics.port");
      expect(R"(prometheus\.io/scrape:\s*"true")", "no prometheus.io/scrape annotation");
      expect(R"(prometheus\.io/port:\s*\{\{-?\s*\.Values\.metrics\.port\s*\|\s*quote\s*-?\}\})",
             "prometheus.io/port is not metrics.port");
      expect(R"(prometheus\.io/path:\s*/metrics\b)", "prometheus.io/path is not /metrics");
      // Each probe is one httpGet on the metrics port (plain HTTP): startup
      // and readiness on /readyz (every projection caught up), liveness on
      // /healthz. No tcpSocket or grpc probe on the TLS port.
      static const std::regex handler(R"((^|\n)\s*(httpGet|tcpSocket|grpc|exec):)");
      for (const auto& [probe, path] : {std::pair{"startupProbe", "/readyz"}, std::pair{"readinessProbe", "/readyz"},
                                        std::pair{"livenessProbe", "/healthz"}}) {
        const std::string where = "templates/" + sts_name + ": " + probe;
        const auto block = Block(*sts, probe);
        if (!block) {
          problems.push_back("templates/" + sts_name + ": no " + probe + ":");
          continue;
        }
        std::vector<std::string> kinds;
        for (auto it = std::sregex_iterator(block->begin(), block->end(), handler); it != std::sregex_iterator();
             ++it) {
          kinds.push_back((*it)[2].str());
        }
        if (kinds.size() != 1 || kinds[0] != "httpGet") {
          problems.push_back(where + " is " + (kinds.empty() ? std::string("without a handler") : kinds[0]) +
                             ", not one httpGet");
          continue;
        }
        std::smatch m;
        if (!std::regex_search(*block, m, std::regex(R"(\n\s*port:\s*([^\n]*))"))) {
          problems.push_back(where + " has no port");
        } else if (!std::regex_match(m[1].str(), std::regex(R"(\s*)" + metrics_ref + R"(\s*)"))) {
          problems.push_back(where + " is on " + m[1].str() + ", not metrics.port");
        }
        if (!std::regex_search(*block, m, std::regex(R"(\n\s*path:\s*(\S*))")) || m[1].str() != path) {
          problems.push_back(where + " is not on " + path);
        }
        if (block->find("HTTPS") != std::string::npos) problems.push_back(where + " uses HTTPS: the metrics port is HTTP");
      }
    }
    if (service) {
      if (!std::regex_search(*service, std::regex(R"(kind:\s*Service\b)"))) {
        problems.push_back("templates/" + svc_name + ": not a Service");
      }
      if (!std::regex_search(*service, std::regex(R"(port:\s*)" + port_ref))) {
        problems.push_back("templates/" + svc_name + ": no port " + key + ".port");
      }
    }
    if (policy && !selected.contains(std::string(svc))) {
      problems.push_back("templates/networkpolicy.yaml: does not select the " + std::string(svc) + " pods");
    }
    if (policy && !std::regex_search(*policy, std::regex(R"(port:\s*)" + port_ref))) {
      problems.push_back("templates/networkpolicy.yaml: does not admit " + key + ".port");
    }
    if (notes && !std::regex_search(*notes, std::regex("-" + std::string(svc) +
                                                       R"(\.\{\{\s*\.Release\.Namespace\s*\}\}\.svc:)" + port_ref))) {
      problems.push_back("templates/NOTES.txt: does not name <fullname>-" + std::string(svc) + " on " + key + ".port");
    }
    // A copied template that still names another service.
    for (const Component& other_component : kServices) {
      const std::string_view other = other_component.name;
      if (other == svc) continue;
      const std::regex foreign(R"(\.Values\.services\.)" + std::string(other) + R"(\b)");
      for (const auto* text : {&sts, &service}) {
        if (*text && std::regex_search(**text, foreign)) {
          problems.push_back("templates/" + std::string(text == &sts ? sts_name : svc_name) +
                             " uses the values of " + std::string(other));
        }
      }
    }
  }
  return problems;
}

// values.yaml and the chart's topic Job against kDefaultTopics.
Problems CheckTopics(const fs::path& root) {
  Problems problems;
  const auto values = LoadYaml(ChartDir(root) / "values.yaml", problems);
  if (!values) return problems;
  const auto job = ReadText(ChartDir(root) / "templates" / "topics-job.yaml");
  if (!job) problems.push_back("templates/topics-job.yaml is missing");
  for (const auto& topic : events::kDefaultTopics) {
    const std::string name(topic.name);
    const std::string key = "topics.partitions." + ShortName(topic.name);
    const auto partitions = Lookup(*values, key);
    const auto count = partitions ? AsInt(*partitions) : std::nullopt;
    if (count != topic.partitions) {
      problems.push_back("values.yaml: " + key + " must be " + std::to_string(topic.partitions) +
                         " (" + name + " in libs/events/topics.h)");
    }
    if (job && !std::regex_search(*job, std::regex(R"(create\s+)" + RegexEscape(name) + R"(\s+)" +
                                                   ValueRef(key)))) {
      problems.push_back("templates/topics-job.yaml does not create " + name + " with " + key);
    }
  }
  const auto rf = Lookup(*values, "topics.replicationFactor");
  const auto isr = Lookup(*values, "topics.minInsyncReplicas");
  const long rf_n = rf ? AsInt(*rf).value_or(0) : 0;
  const long isr_n = isr ? AsInt(*isr).value_or(0) : 0;
  if (rf_n < 1 || isr_n < 1 || isr_n > rf_n) {
    problems.push_back("values.yaml: need 1 <= topics.minInsyncReplicas <= topics.replicationFactor");
  }
  if (job && job->find("retention.ms=-1") == std::string::npos) {
    problems.push_back("templates/topics-job.yaml: topics must keep events forever (retention.ms=-1)");
  }
  return problems;
}

// A unit file as (section, key, value) entries, continuation lines joined.
struct UnitEntry {
  std::string section, key, value;
};

Problems ParseUnit(const fs::path& path, std::vector<UnitEntry>& entries) {
  Problems problems;
  const auto text = ReadText(path);
  if (!text) return {path.string() + " is missing"};
  std::istringstream in(*text);
  std::string line, section, pending;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!pending.empty()) line = pending + " " + line;
    if (!line.empty() && line.back() == '\\') {
      pending = line.substr(0, line.size() - 1);
      continue;
    }
    pending.clear();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#' || line[first] == ';') continue;
    if (line[first] == '[') {
      section = line.substr(first + 1, line.find(']') - first - 1);
      continue;
    }
    const auto eq = line.find('=');
    if (section.empty() || eq == std::string::npos) {
      problems.push_back(path.filename().string() + ":" + std::to_string(number) + ": not KEY=VALUE in a section");
      continue;
    }
    entries.push_back({section, line.substr(first, eq - first), line.substr(eq + 1)});
  }
  return problems;
}

Problems CheckSystemd(const fs::path& root) {
  Problems problems;
  for (const char* name : {"jaring.service", "jaring@.service"}) {
    std::vector<UnitEntry> entries;
    for (auto& p : ParseUnit(root / "deploy" / "systemd" / name, entries)) problems.push_back(p);
    if (entries.empty()) continue;
    const bool kafka = std::string_view(name) == "jaring@.service";
    std::set<std::string> sections;
    std::vector<std::string> exec_starts;
    for (const auto& e : entries) {
      sections.insert(e.section);
      if (e.section == "Service" && e.key == "ExecStart") exec_starts.push_back(e.value);
    }
    for (const char* s : {"Unit", "Service", "Install"}) {
      if (!sections.contains(s)) problems.push_back(std::string(name) + ": no [" + s + "] section");
    }
    if (exec_starts.size() != 1) {
      problems.push_back(std::string(name) + ": needs exactly one ExecStart");
      continue;
    }
    const std::string& exec = exec_starts[0];
    if (!std::regex_search(exec, std::regex(R"(/jaring\s+serve\s)"))) {
      problems.push_back(std::string(name) + ": ExecStart does not run `jaring serve`");
    }
    if (kafka && (exec.find("serve %i") == std::string::npos || exec.find("--kafka") == std::string::npos)) {
      problems.push_back(std::string(name) + ": ExecStart must serve %i on --kafka");
    }
    if (!kafka && exec.find("--kafka") != std::string::npos) {
      problems.push_back(std::string(name) + ": the one-machine unit runs on the embedded log, not --kafka");
    }
    if (exec.find("--metrics ${JARING_METRICS") == std::string::npos) {
      problems.push_back(std::string(name) + ": ExecStart has no --metrics ${JARING_METRICS...}");
    }
  }
  return problems;
}

// The sequence's scalars joined by spaces, or the scalar itself.
std::string Joined(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  std::string out;
  if (node.IsSequence()) {
    for (const auto& item : node) {
      if (item.IsScalar()) out += item.Scalar() + " ";
    }
  }
  return out;
}

// A Compose volume spec "SOURCE:TARGET[:MODE]" as {source, target}; the
// source may hold "${VAR:-default}", so the target is what follows the first
// ":/".
std::pair<std::string, std::string> MountSpec(const std::string& spec) {
  const auto at = spec.find(":/");
  if (at == std::string::npos) return {"", spec};
  const std::string rest = spec.substr(at + 1);
  return {spec.substr(0, at), rest.substr(0, rest.find(':'))};
}

Problems CheckCompose(const fs::path& root) {
  Problems problems;
  const auto compose = LoadYaml(root / "deploy" / "compose.yaml", problems);
  if (!compose) return problems;
  const auto services = Lookup(*compose, "services");
  const auto volumes = Lookup(*compose, "volumes");
  if (!services || !services->IsMap()) return {"compose.yaml: no services"};
  for (const char* broker : {"kafka-1", "kafka-2", "kafka-3"}) {
    if (!Lookup(*services, broker)) problems.push_back(std::string("compose.yaml: no broker ") + broker);
  }
  std::set<std::string> data_volumes;
  for (const Component& component : kServices) {
    const std::string name(component.name);
    const auto service = Lookup(*services, name);
    if (!service) {
      problems.push_back("compose.yaml: no service " + name);
      continue;
    }
    const auto command = Lookup(*service, "command");
    const std::string args = command ? Joined(*command) : "";
    if (args.rfind("serve " + name + " ", 0) != 0 || args.find("--kafka ") == std::string::npos) {
      problems.push_back("compose.yaml: " + name + " must run `serve " + name + " ... --kafka ...`");
    }
    // Its own named volume on the data directory.
    std::string data_volume;
    std::set<std::string> targets;  // every mount's target
    if (const auto mounts = Lookup(*service, "volumes"); mounts && mounts->IsSequence()) {
      for (const auto& m : *mounts) {
        const auto [source, target] = MountSpec(m.IsScalar() ? m.Scalar() : "");
        targets.insert(target);
        if (target == "/var/lib/jaring") data_volume = source;
      }
    }
    if (data_volume.empty() || !volumes || !Lookup(*volumes, data_volume)) {
      problems.push_back("compose.yaml: " + name + " needs a named volume on /var/lib/jaring");
    } else if (!data_volumes.insert(data_volume).second) {
      problems.push_back("compose.yaml: " + name + " shares the volume " + data_volume);
    }
    if (!std::regex_search(args, std::regex(R"(--metrics 0\.0\.0\.0:\d+ )"))) {
      problems.push_back("compose.yaml: " + name + " has no --metrics 0.0.0.0:PORT");
    }
    // The key in a directory mounted on its own, not on the data volume.
    if (!component.key_flag.empty()) {
      const std::string flag(component.key_flag);
      std::smatch m;
      std::string dir;
      if (std::regex_search(args, m, std::regex(RegexEscape(flag) + R"( (/\S+))"))) {
        dir = m[1].str().substr(0, m[1].str().rfind('/'));
      }
      if (dir.empty() || dir == "/var/lib/jaring" || dir.rfind("/var/lib/jaring/", 0) == 0 || !targets.contains(dir)) {
        problems.push_back("compose.yaml: " + name + " needs " + flag + " on a volume of its own");
      }
    }
    if (!Lookup(*service, "depends_on.kafka-topics")) {
      problems.push_back("compose.yaml: " + name + " must depend on kafka-topics");
    }
  }
  const auto topics = Lookup(*services, "kafka-topics");
  const std::string script = topics && Lookup(*topics, "command") ? Joined(*Lookup(*topics, "command")) : "";
  if (script.empty()) problems.push_back("compose.yaml: no kafka-topics command");
  for (const auto& topic : events::kDefaultTopics) {
    const std::string name(topic.name);
    std::smatch m;
    if (!std::regex_search(script, m, std::regex(R"(create\s+)" + RegexEscape(name) + R"(\s+(\d+))"))) {
      problems.push_back("compose.yaml: kafka-topics does not create " + name);
    } else if (std::stoi(m[1].str()) != topic.partitions) {
      problems.push_back("compose.yaml: " + name + " has " + m[1].str() + " partitions, not " +
                         std::to_string(topic.partitions));
    }
  }
  if (!script.empty() && script.find("retention.ms=-1") == std::string::npos) {
    problems.push_back("compose.yaml: topics must keep events forever (retention.ms=-1)");
  }
  return problems;
}

const fs::path kRoot = JARING_SOURCE_DIR;

TEST(DeployFilesTest, TopicListMatchesTheCode) {
  ASSERT_EQ(kDeployedTopics.size(), events::kDefaultTopics.size());
  for (size_t i = 0; i < kDeployedTopics.size(); ++i) {
    EXPECT_EQ(kDeployedTopics[i], events::kDefaultTopics[i].name);
  }
}

// The single writers are the services that own a topic of their name; the
// audit reads the topics and owns none.
TEST(DeployFilesTest, SingleWritersAreTheTopicOwners) {
  for (const Component& component : kServices) {
    bool owns = false;
    for (const auto& topic : events::kDefaultTopics) owns = owns || ShortName(topic.name) == component.name;
    EXPECT_EQ(owns, component.single_writer) << component.name;
  }
}

TEST(DeployFilesTest, RepositoryChartIsConsistent) {
  EXPECT_THAT(CheckChartMetadata(kRoot), IsEmpty());
  EXPECT_THAT(CheckValueReferences(kRoot), IsEmpty());
  EXPECT_THAT(CheckServices(kRoot), IsEmpty());
  EXPECT_THAT(CheckTopics(kRoot), IsEmpty());
}

TEST(DeployFilesTest, RepositorySystemdUnitsAreConsistent) { EXPECT_THAT(CheckSystemd(kRoot), IsEmpty()); }

TEST(DeployFilesTest, RepositoryComposeIsConsistent) { EXPECT_THAT(CheckCompose(kRoot), IsEmpty()); }

// A copy of helm/ and deploy/ to break on purpose: each test breaks one
// thing and expects the check to name it.
class BrokenCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* dir : {"helm", "deploy"}) {
      fs::copy(kRoot / dir, root_ / dir, fs::copy_options::recursive);
    }
    ASSERT_THAT(CheckValueReferences(root_), IsEmpty());
  }

  // Replaces the first `from` in a file; the test fails if it is not there.
  void Replace(const fs::path& relative, std::string_view from, std::string_view to) {
    auto text = ReadText(root_ / relative);
    ASSERT_TRUE(text.has_value()) << relative;
    const auto at = text->find(from);
    ASSERT_NE(at, std::string::npos) << from << " not in " << relative;
    text->replace(at, from.size(), to);
    std::ofstream(root_ / relative, std::ios::binary | std::ios::trunc) << *text;
  }

  // Rewrites values.yaml after `edit` (comments are lost; the copy is thrown away).
  template <typename Edit>
  void EditValues(Edit edit) {
    const fs::path file = root_ / "helm" / "jaring" / "values.yaml";
    YAML::Node values = YAML::LoadFile(file.string());
    edit(values);
    std::ofstream(file, std::ios::trunc) << YAML::Dump(values) << "\n";
  }

  testing::TempDir dir_;
  const fs::path root_ = dir_.path();
};

TEST_F(BrokenCopyTest, UndefinedValueIsNamed) {
  Replace("helm/jaring/templates/population-service.yaml", "{{ .Values.services.population.port }}",
          "{{ .Values.services.population.prot }}");
  Replace("helm/jaring/templates/NOTES.txt", "Jaring", "{{ $.Values.kafka.bootstrapServers }}");
  const Problems problems = CheckValueReferences(root_);
  EXPECT_THAT(problems, Contains(HasSubstr(".Values.services.population.prot is not defined")));
  EXPECT_THAT(problems, Contains(HasSubstr(".Values.kafka.bootstrapServers is not defined")));
  EXPECT_EQ(problems.size(), 2u);
}

TEST_F(BrokenCopyTest, ValuePastAScalarIsNamed) {
  Replace("helm/jaring/templates/ledger-service.yaml", "{{ .Values.services.ledger.port }}",
          "{{ .Values.services.ledger.port.number }}");
  EXPECT_THAT(CheckValueReferences(root_), Contains(HasSubstr("services.ledger.port.number")));
}

TEST_F(BrokenCopyTest, MissingServiceTemplateIsNamed) {
  fs::remove(root_ / "helm" / "jaring" / "templates" / "ledger-service.yaml");
  EXPECT_THAT(CheckServices(root_), Contains(HasSubstr("ledger-service.yaml is missing")));
}

TEST_F(BrokenCopyTest, MissingServiceValuesAreNamed) {
  EditValues([](YAML::Node& v) { v["services"].remove("appeals"); });
  const Problems problems = CheckServices(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("services.appeals.port must be a port number")));
  // The templates still use them.
  EXPECT_THAT(CheckValueReferences(root_), Contains(HasSubstr("services.appeals")));
}

TEST_F(BrokenCopyTest, ProbeOnAnotherPortIsNamed) {
  // The liveness probe back on the gRPC (TLS) port.
  Replace("helm/jaring/templates/appeals-statefulset.yaml",
          "path: /healthz\n              port: {{ .Values.metrics.port }}",
          "path: /healthz\n              port: {{ .Values.services.appeals.port }}");
  const Problems problems = CheckServices(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("appeals-statefulset.yaml: livenessProbe is on "
                                           "{{ .Values.services.appeals.port }}, not metrics.port")));
  EXPECT_EQ(problems.size(), 1u);
}

TEST_F(BrokenCopyTest, ProbeOfAnotherKindOrPathIsNamed) {
  Replace("helm/jaring/templates/population-statefulset.yaml", "startupProbe:\n            httpGet:",
          "startupProbe:\n            tcpSocket:");
  Replace("helm/jaring/templates/ledger-statefulset.yaml",
          "readinessProbe:\n            httpGet:\n              path: /readyz",
          "readinessProbe:\n            httpGet:\n              path: /healthz");
  const Problems problems = CheckServices(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("population-statefulset.yaml: startupProbe is tcpSocket, not one httpGet")));
  EXPECT_THAT(problems, Contains(HasSubstr("ledger-statefulset.yaml: readinessProbe is not on /readyz")));
  EXPECT_EQ(problems.size(), 2u);
}

TEST_F(BrokenCopyTest, MissingMetricsFlagIsNamed) {
  Replace("helm/jaring/templates/eligibility-statefulset.yaml",
          "- --metrics\n            - \"0.0.0.0:{{ .Values.metrics.port }}\"\n", "");
  const Problems problems = CheckServices(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("eligibility-statefulset.yaml: no --metrics on metrics.port")));
  EXPECT_EQ(problems.size(), 1u);
}

TEST_F(BrokenCopyTest, MetricsPortOnAServicePortIsNamed) {
  EditValues([](YAML::Node& v) { v["metrics"]["port"] = v["services"]["appeals"]["port"].as<int>(); });
  EXPECT_THAT(CheckServices(root_), Contains(HasSubstr("services.appeals.port is metrics.port")));
}

TEST_F(BrokenCopyTest, MetricsMissingFromComposeAndUnitsIsNamed) {
  Replace("deploy/compose.yaml", "--metrics, \"0.0.0.0:9090\",\n", "");
  Replace("deploy/systemd/jaring@.service", "--metrics ${JARING_METRICS_%i} ", "");
  EXPECT_THAT(CheckCompose(root_), Contains(HasSubstr("compose.yaml: population has no --metrics")));
  EXPECT_THAT(CheckSystemd(root_), Contains(HasSubstr("jaring@.service: ExecStart has no --metrics")));
}

TEST_F(BrokenCopyTest, MissingProbeIsNamed) {
  Replace("helm/jaring/templates/ledger-statefulset.yaml", "livenessProbe:", "lifenessProbe:");
  EXPECT_THAT(CheckServices(root_), Contains(HasSubstr("ledger-statefulset.yaml: no livenessProbe:")));
}

TEST_F(BrokenCopyTest, TemplateCopiedFromAnotherServiceIsNamed) {
  Replace("helm/jaring/templates/eligibility-statefulset.yaml",
          "containerPort: {{ .Values.services.eligibility.port }}",
          "containerPort: {{ .Values.services.population.port }}");
  const Problems problems = CheckServices(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("eligibility-statefulset.yaml: containerPort is not")));
  EXPECT_THAT(problems, Contains(HasSubstr("eligibility-statefulset.yaml uses the values of population")));
}

TEST_F(BrokenCopyTest, DuplicatePortIsNamed) {
  EditValues([](YAML::Node& v) { v["services"]["ledger"]["port"] = v["services"]["population"]["port"].as<int>(); });
  EXPECT_THAT(CheckServices(root_), Contains(HasSubstr("services.ledger.port is used by another service")));
}

TEST_F(BrokenCopyTest, OnlyTheAuditMayRunSeveralReplicas) {
  EditValues([](YAML::Node& v) {
    v["services"]["audit"]["replicas"] = 3;  // fine: it only reads
    v["services"]["population"]["replicas"] = 2;
  });
  Replace("helm/jaring/templates/ledger-statefulset.yaml", "{{- fail \"services.ledger.replicas",
          "{{- printf \"services.ledger.replicas");
  Replace("helm/jaring/templates/audit-statefulset.yaml", "apiVersion: apps/v1",
          "{{- if gt (int .Values.services.audit.replicas) 1 }}\n"
          "{{- fail \"services.audit.replicas must be 0 or 1\" }}\n{{- end }}\napiVersion: apps/v1");
  const Problems problems = CheckServices(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("services.population.replicas must be 0 or 1")));
  EXPECT_THAT(problems, Contains(HasSubstr("ledger-statefulset.yaml: does not refuse replicas above 1")));
  EXPECT_THAT(problems, Contains(HasSubstr("audit-statefulset.yaml: refuses replicas, but audit only reads")));
  EXPECT_EQ(problems.size(), 3u) << ::testing::PrintToString(problems);
}

TEST_F(BrokenCopyTest, AuditExportKeyOnTheVolumeIsNamed) {
  Replace("helm/jaring/templates/audit-statefulset.yaml", "- /etc/jaring/export/export.key",
          "- /var/lib/jaring/keys/export.key");
  Replace("helm/jaring/templates/audit-statefulset.yaml", "{{- if not .Values.services.audit.exportKeySecret }}",
          "{{- if false }}");
  EditValues([](YAML::Node& v) { v["services"]["audit"]["exportKeySecret"] = ""; });
  Replace("deploy/compose.yaml", "--export-key, /var/lib/jaring-keys/export.key",
          "--export-key, /var/lib/jaring/keys/export.key");
  const Problems problems = CheckServices(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("services.audit.exportKeySecret must name a Secret")));
  EXPECT_THAT(problems, Contains(HasSubstr("audit-statefulset.yaml: --export-key /var/lib/jaring/keys/export.key "
                                           "is on the cache volume")));
  EXPECT_THAT(problems, Contains(HasSubstr("audit-statefulset.yaml: mounts nothing at /var/lib/jaring/keys")));
  EXPECT_THAT(problems, Contains(HasSubstr("audit-statefulset.yaml: does not refuse an empty "
                                           "services.audit.exportKeySecret")));
  EXPECT_EQ(problems.size(), 4u) << ::testing::PrintToString(problems);
  EXPECT_THAT(CheckCompose(root_), Contains(HasSubstr("compose.yaml: audit needs --export-key on a volume of its own")));
}

TEST_F(BrokenCopyTest, AuditLeftOutOfPolicyNotesAndComposeIsNamed) {
  Replace("helm/jaring/templates/networkpolicy.yaml", "appeals, ledger, audit]", "appeals, ledger]");
  Replace("helm/jaring/templates/networkpolicy.yaml", "port: {{ .Values.services.audit.port }}",
          "port: {{ .Values.services.ledger.port }}");
  for (int i = 0; i < 2; ++i) {  // the address, and jaringctl's --audit-target
    Replace("helm/jaring/templates/NOTES.txt", "-audit.{{ .Release.Namespace }}", "-ledger.{{ .Release.Namespace }}");
  }
  Replace("deploy/compose.yaml", "  audit:\n", "  audits:\n");
  const Problems problems = CheckServices(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("networkpolicy.yaml: does not select the audit pods")));
  EXPECT_THAT(problems, Contains(HasSubstr("networkpolicy.yaml: does not admit services.audit.port")));
  EXPECT_THAT(problems, Contains(HasSubstr("NOTES.txt: does not name <fullname>-audit on services.audit.port")));
  EXPECT_EQ(problems.size(), 3u) << ::testing::PrintToString(problems);
  EXPECT_THAT(CheckCompose(root_), Contains(HasSubstr("compose.yaml: no service audit")));
}

TEST_F(BrokenCopyTest, PartitionCountOtherThanTheCodeIsNamed) {
  EditValues([](YAML::Node& v) { v["topics"]["partitions"]["population"] = 16; });
  EXPECT_THAT(CheckTopics(root_), Contains(HasSubstr("topics.partitions.population must be 8")));
}

TEST_F(BrokenCopyTest, TopicMissingFromTheJobIsNamed) {
  Replace("helm/jaring/templates/topics-job.yaml", "create jaring.rules.v1", "create jaring.rule.v1");
  EXPECT_THAT(CheckTopics(root_), Contains(HasSubstr("does not create jaring.rules.v1")));
}

TEST_F(BrokenCopyTest, ChartApiVersionIsChecked) {
  Replace("helm/jaring/Chart.yaml", "apiVersion: v2", "apiVersion: v1");
  EXPECT_THAT(CheckChartMetadata(root_), Contains(HasSubstr("apiVersion must be v2")));
}

TEST_F(BrokenCopyTest, UnitWithoutJaringServeIsNamed) {
  Replace("deploy/systemd/jaring.service", "ExecStart=", "#ExecStart=");
  Replace("deploy/systemd/jaring@.service", "jaring serve %i", "jaring devbroker %i");
  const Problems problems = CheckSystemd(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("jaring.service: needs exactly one ExecStart")));
  EXPECT_THAT(problems, Contains(HasSubstr("jaring@.service: ExecStart does not run `jaring serve`")));
}

TEST_F(BrokenCopyTest, UnitLineOutsideASectionIsNamed) {
  Replace("deploy/systemd/jaring.service", "[Unit]", "Wants=nothing\n[Unit]");
  EXPECT_THAT(CheckSystemd(root_), Contains(HasSubstr("not KEY=VALUE in a section")));
}

TEST_F(BrokenCopyTest, ComposeTopicMissingOrMiscountedIsNamed) {
  Replace("deploy/compose.yaml", "create jaring.ledger.v1 4\n", "");
  Replace("deploy/compose.yaml", "create jaring.eligibility.v1 8", "create jaring.eligibility.v1 6");
  const Problems problems = CheckCompose(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("does not create jaring.ledger.v1")));
  EXPECT_THAT(problems, Contains(HasSubstr("jaring.eligibility.v1 has 6 partitions, not 8")));
}

TEST_F(BrokenCopyTest, ComposeServiceAndVolumeAreChecked) {
  Replace("deploy/compose.yaml", "  appeals:\n", "  appeal:\n");
  Replace("deploy/compose.yaml", "- ledger-data:/var/lib/jaring", "- eligibility-data:/var/lib/jaring");
  const Problems problems = CheckCompose(root_);
  EXPECT_THAT(problems, Contains(HasSubstr("no service appeals")));
  EXPECT_THAT(problems, Contains(HasSubstr("ledger shares the volume eligibility-data")));
}

TEST_F(BrokenCopyTest, ComposeThatIsNotYamlIsNamed) {
  Replace("deploy/compose.yaml", "services:\n", "services: [\n");
  EXPECT_THAT(CheckCompose(root_), Contains(HasSubstr("compose.yaml: yaml-cpp: error")));
}

}  // namespace
}  // namespace jaring
