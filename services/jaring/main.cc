// jaring: the Jaring server.
//
//   jaring serve [SERVICE...] [--config FILE] [--data DIR] [--listen HOST:PORT] [--kafka BOOTSTRAP]
//   jaring serve --replay DIR
//   jaring replay --as-of T --out DIR [--data DIR | --kafka BOOTSTRAP]
//   jaring token --role ROLE --subject ID [--region PREFIX] [--ttl 8h]
//   jaring devbroker [--brokers N]
#include <cstdio>

#include "CLI/CLI.hpp"
#include "services/jaring/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"jaring: event-sourced digital social assistance (bansos) server"};
  app.require_subcommand(1);
  app.fallthrough();
  // Flags from a TOML file, one section per command ([serve], [replay]);
  // a flag on the command line wins. An unknown key is an error.
  app.set_config("--config", "", "Read flags from a TOML file, a section per command ([serve]); the command line wins");
  app.allow_config_extras(CLI::config_extras_mode::error);

  jaring::server::ServeFlags serve;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "Serve Jaring on the embedded log (default) or on Kafka (--kafka)");
  serve_cmd->add_option("--data", serve.data_dir, "Data directory (embedded log and projections)")
      ->capture_default_str();
  serve_cmd->add_option("--listen", serve.listen, "gRPC listen address; port 0 picks a free one")
      ->capture_default_str();
  serve_cmd->add_option("--kafka", serve.kafka, "Kafka bootstrap servers; empty means the embedded log");
  serve_cmd->add_option("--kafka-option", serve.kafka_options,
                        "A librdkafka property KEY=VALUE for the Kafka clients (security.protocol=SSL, sasl.*); "
                        "repeatable");
  serve_cmd->add_option("--kafka-fetch-wait", serve.kafka_fetch_wait_ms,
                        "Milliseconds a reader's fetch may wait at the end of a partition")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  serve_cmd->add_option("--appeals-key", serve.appeals_key,
                        "Key file of the appeals service's filer NIK hashes (default DATA/keys/appeals-filer.key, "
                        "made on first start; keep it out of the repository and back it up)");
  serve_cmd->add_option("--tls-cert", serve.tls_cert, "Server certificate chain (PEM); with --tls-key turns TLS on");
  serve_cmd->add_option("--tls-key", serve.tls_key, "Server private key (PEM)");
  serve_cmd->add_option("--tls-client-ca", serve.tls_client_ca,
                        "CA (PEM) that signs client certificates: clients must present one (mutual TLS)");
  serve_cmd->add_option("--metrics", serve.metrics,
                        "HTTP address for Prometheus metrics (/metrics), /healthz and /readyz; port 0 picks one");
  serve_cmd->add_option("--auth-key", serve.auth_key,
                        "Key that signs and checks tokens (default DATA/keys/auth.key, made on first start; "
                        "`jaring token` issues tokens with it)");
  serve_cmd->add_option("--audience", serve.audience, "Audience tokens must carry")->capture_default_str();
  serve_cmd->add_option("--public-burst", serve.public_burst, "Public status lookups in a row per peer address")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  serve_cmd->add_option("--public-refill", serve.public_refill_seconds,
                        "Seconds until a peer may make one more public lookup")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 86400.0));
  serve_cmd->add_flag("--plaintext", serve.plaintext,
                      "Serve without TLS (only on a loopback address; scripts/dev-certs.sh makes certificates)");
  serve_cmd->add_flag("--read-only", serve.read_only,
                      "Serve read-only replicas that follow the log (needs --kafka); writes are refused");
  serve_cmd->add_option("--replay", serve.replay,
                        "Serve a replay made by `jaring replay` (its directory): frozen stores, reads and audit only");
  serve_cmd->add_option("--export-key", serve.export_key,
                        "Key of the audit's keyed references to families and people (default DATA/keys/export.key, "
                        "made on first start)");
  serve_cmd->add_option("--clock-start", serve.clock_start,
                        "Start the service clock at this instant (RFC 3339 or YYYY-MM-DD) and run on; for drills "
                        "and tests");
  serve_cmd
      ->add_option("services", serve.services,
                   "Services to serve: population, eligibility, appeals, ledger, audit, or all (default)")
      ->check(CLI::IsMember({"population", "eligibility", "appeals", "ledger", "audit", "all"}));

  jaring::server::ReplayFlags replay;
  CLI::App* replay_cmd = app.add_subcommand(
      "replay",
      "Rebuild the projections as of a moment into a new directory, without touching the live system; "
      "`jaring serve --replay DIR` answers from it");
  replay_cmd->add_option("--as-of", replay.as_of,
                         "The moment: YYYY-MM-DD (the end of that day, WIB) or RFC 3339")
      ->required();
  replay_cmd->add_option("--out", replay.out, "A new directory for the replay")->required();
  replay_cmd->add_option("--data", replay.data_dir, "The live data directory (its log is read beside the server)")
      ->capture_default_str();
  replay_cmd->add_option("--kafka", replay.kafka, "Read the log from Kafka instead");
  replay_cmd->add_option("--kafka-option", replay.kafka_options, "A librdkafka property KEY=VALUE; repeatable");
  replay_cmd
      ->add_option("services", replay.services, "Which stores: population, eligibility, appeals, ledger, or all")
      ->check(CLI::IsMember({"population", "eligibility", "appeals", "ledger", "all"}));

  jaring::server::TokenFlags token;
  CLI::App* token_cmd = app.add_subcommand(
      "token", "Issue a signed token for a principal (role national, regional, verifier or oversight)");
  token_cmd->add_option("--data", token.data_dir, "Data directory whose keys/auth.key signs")->capture_default_str();
  token_cmd->add_option("--key", token.key, "Key file (overrides DATA/keys/auth.key)");
  token_cmd->add_option("--role", token.role, "national, regional, verifier or oversight")
      ->required()
      ->check(CLI::IsMember({"national", "regional", "verifier", "oversight"}));
  token_cmd->add_option("--subject", token.subject, "The principal's id (an operator or system id, never a NIK)")
      ->required();
  token_cmd->add_option("--region", token.region, "A regional office's region prefix, e.g. 52.71");
  token_cmd->add_option("--audience", token.audience, "The deployment's audience")->capture_default_str();
  token_cmd->add_option("--ttl", token.ttl, "Lifetime, e.g. 8h, 30m")->capture_default_str();

  jaring::server::DevbrokerFlags dev;
  CLI::App* dev_cmd = app.add_subcommand(
      "devbroker",
      "FOR TESTS ONLY: run librdkafka's in-process mock Kafka cluster on loopback and print its "
      "bootstrap list, so several processes (and kcat) can share one Kafka-protocol broker. "
      "It keeps only about 5 MiB per partition and drops older records.");
  dev_cmd->add_option("--brokers", dev.brokers, "Number of mock brokers")->capture_default_str();
  dev_cmd->add_flag("!--no-topics", dev.create_topics, "Do not create Jaring's topics");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ConfigError& e) {
    std::fprintf(stderr, "jaring: --config: %s (keys are the long flag names, in a [serve] or [replay] section)\n",
                 e.what());
    return 2;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  absl::Status st;
  if (*serve_cmd) st = jaring::server::Serve(serve);
  if (*replay_cmd) st = jaring::server::Replay(replay);
  if (*dev_cmd) st = jaring::server::Devbroker(dev);
  if (*token_cmd) st = jaring::server::IssueToken(token);
  if (!st.ok()) {
    std::fprintf(stderr, "jaring: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
