// Subcommands of the `jaring` server binary.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace jaring::server {

struct ServeFlags {
  // Data directory: the embedded log lives in DATA/log, projections in
  // DATA/<service>.
  std::string data_dir = "data";
  // gRPC listen address; port 0 picks a free port (printed at start).
  std::string listen = "127.0.0.1:7700";
  // Kafka bootstrap list; empty means the embedded log.
  std::string kafka;
  // Which services to serve: "population", "eligibility", "appeals",
  // "ledger", or "all" (the default).
  std::vector<std::string> services;
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
// until SIGINT or SIGTERM, then shuts down gracefully.
absl::Status Serve(const ServeFlags& flags);

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
