// Subcommands of the `jaring` server binary.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/eventlog/kafka_log.h"

namespace jaring::server {

struct ServeFlags {
  // Data directory: the embedded log lives in DATA/log, projections in
  // DATA/<service>.
  std::string data_dir = "data";
  // gRPC listen address; port 0 picks a free port (printed at start).
  std::string listen = "127.0.0.1:7700";
  // Kafka bootstrap list; empty means the embedded log.
  std::string kafka;
  // Kafka client settings: librdkafka properties KEY=VALUE (security.protocol,
  // sasl.*, ssl.*), and how long a reader's fetch may wait at the end of a
  // partition (the latency of a command's read-your-writes on a broker that
  // does not answer early).
  std::vector<std::string> kafka_options;
  int kafka_fetch_wait_ms = 100;
  // Which services to serve: "population", "eligibility", "appeals",
  // "ledger", "audit", or "all" (the default: every one).
  std::vector<std::string> services;
  // Serve the services as read-only replicas that follow the log (Kafka
  // only: an embedded log has one owner).
  bool read_only = false;
  // Serve a replay built by `jaring replay` (its directory): every store
  // frozen as of the replay's moment, reads and audit only, the clock
  // stopped at that moment.
  std::string replay;
  // The key of audit references (keyed hashes of KK numbers and NIKs);
  // empty: DATA/keys/export.key, made on first start.
  std::string export_key;
  // RFC 3339 instant or YYYY-MM-DD (00:00 WIB): the service clock starts
  // there and runs on. For drills and tests that need a known date; empty:
  // the real clock.
  std::string clock_start;
  // The key of the appeals service's filer hashes; empty: DATA/keys/
  // appeals-filer.key, made on first start.
  std::string appeals_key;
  // TLS: the server's certificate chain and key (PEM). With a client CA,
  // clients must present a certificate it signed (mutual TLS).
  std::string tls_cert, tls_key, tls_client_ca;
  // Serve without TLS. Allowed only on a loopback address; it is also what
  // happens on loopback when no certificate is given.
  bool plaintext = false;
  // The key that signs tokens (jaring token); empty: DATA/keys/auth.key,
  // made on first start. Tokens must carry `audience`.
  std::string auth_key;
  std::string audience = "jaring";
  // The public's status lookups: a burst per peer address, then one every
  // `public_refill_seconds`.
  int public_burst = 5;
  double public_refill_seconds = 12;
  // HOST:PORT of the HTTP endpoint for Prometheus (/metrics, /healthz,
  // /readyz); empty: none.
  std::string metrics;
};

// True for 127.0.0.0/8, ::1 and localhost.
bool IsLoopbackHost(const std::string& host);

// Opens the log, makes sure Jaring's topics exist, prints where the data
// lives and what it holds, serves gRPC (health checking and reflection)
// until SIGINT or SIGTERM, then shuts down gracefully: stops accepting
// calls, lets those in flight finish (up to 10 s), and stops every
// projection after it committed what it applied.
absl::Status Serve(const ServeFlags& flags);

struct ReplayFlags {
  // The live system's data directory (its embedded log is opened read-only,
  // beside a running server) ...
  std::string data_dir = "data";
  // ... or a Kafka bootstrap list (and its client settings, as for serve).
  std::string kafka;
  std::vector<std::string> kafka_options;
  // The moment: RFC 3339, or YYYY-MM-DD for the end of that day in WIB.
  std::string as_of;
  // Where the stores are built; must not exist or be empty.
  std::string out;
  // Which services' stores (default: all four).
  std::vector<std::string> services;
};

// Rebuilds the chosen services' stores as of a moment into a directory of
// their own (events recorded at or before it), without touching the live
// system, and writes REPLAY.json there; `jaring serve --replay DIR` then
// answers from them.
absl::Status Replay(const ReplayFlags& flags);

// The Kafka log's options from the flags; kInvalidArgument naming
// --kafka-option for a setting that is not KEY=VALUE.
absl::StatusOr<eventlog::KafkaLogOptions> KafkaOptions(const std::string& bootstrap,
                                                       const std::vector<std::string>& settings, int fetch_wait_ms);

// Reads an instant for --as-of / --clock-start: RFC 3339, or a bare
// YYYY-MM-DD read as the start (end_of_day false) or the end (true) of that
// day in WIB. Errors name `flag`.
absl::StatusOr<absl::Time> ParseInstant(const std::string& flag, const std::string& text, bool end_of_day);

struct TokenFlags {
  std::string data_dir = "data";
  // Empty: DATA/keys/auth.key (made if missing).
  std::string key;
  std::string role;
  std::string subject;
  std::string region;
  std::string audience = "jaring";
  // Lifetime, e.g. "8h", "30m", "720h".
  std::string ttl = "8h";
};

// Prints a signed token for a principal (libs/auth/token.h).
absl::Status IssueToken(const TokenFlags& flags);

struct DevbrokerFlags {
  int brokers = 3;
  // Create Jaring's topics with their default partition counts.
  bool create_topics = true;
};

// Runs librdkafka's in-process mock cluster on loopback until SIGINT or
// SIGTERM, printing its bootstrap list. For tests only.
absl::Status Devbroker(const DevbrokerFlags& flags);


// Blocks SIGINT and SIGTERM in the calling thread; call it before any other
// thread starts, so that threads inherit the mask and only
// WaitForTerminationSignal receives them.
void BlockTerminationSignals();
// Waits for SIGINT or SIGTERM (blocked by BlockTerminationSignals) and
// returns its number.
int WaitForTerminationSignal();

}  // namespace jaring::server
