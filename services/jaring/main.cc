// jaring: the Jaring server.
//
//   jaring serve [SERVICE...] [--data DIR] [--listen HOST:PORT] [--kafka BOOTSTRAP]
//   jaring devbroker [--brokers N]
#include <cstdio>

#include "CLI/CLI.hpp"
#include "services/jaring/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"jaring: event-sourced digital social assistance (bansos) server"};
  app.require_subcommand(1);

  jaring::server::ServeFlags serve;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "Serve Jaring on the embedded log (default) or on Kafka (--kafka)");
  serve_cmd->add_option("--data", serve.data_dir, "Data directory (embedded log and projections)")
      ->capture_default_str();
  serve_cmd->add_option("--listen", serve.listen, "gRPC listen address; port 0 picks a free one")
      ->capture_default_str();
  serve_cmd->add_option("--kafka", serve.kafka, "Kafka bootstrap servers; empty means the embedded log");
  serve_cmd->add_option("--appeals-key", serve.appeals_key,
                        "Key file of the appeals service's filer NIK hashes (default DATA/keys/appeals-filer.key, "
                        "made on first start; keep it out of the repository and back it up)");
  serve_cmd->add_option("--tls-cert", serve.tls_cert, "Server certificate chain (PEM); with --tls-key turns TLS on");
  serve_cmd->add_option("--tls-key", serve.tls_key, "Server private key (PEM)");
  serve_cmd->add_option("--tls-client-ca", serve.tls_client_ca,
                        "CA (PEM) that signs client certificates: clients must present one (mutual TLS)");
  serve_cmd->add_option("--metrics", serve.metrics,
                        "HTTP address for Prometheus metrics (/metrics), /healthz and /readyz; port 0 picks one");
  serve_cmd->add_flag("--plaintext", serve.plaintext,
                      "Serve without TLS (only on a loopback address; scripts/dev-certs.sh makes certificates)");
  serve_cmd
      ->add_option("services", serve.services,
                   "Services to serve: population, eligibility, appeals, ledger, or all (default)")
      ->check(CLI::IsMember({"population", "eligibility", "appeals", "ledger", "all"}));

  jaring::server::DevbrokerFlags dev;
  CLI::App* dev_cmd = app.add_subcommand(
      "devbroker",
      "FOR TESTS ONLY: run librdkafka's in-process mock Kafka cluster on loopback and print its "
      "bootstrap list, so several processes (and kcat) can share one Kafka-protocol broker. "
      "It keeps only about 5 MiB per partition and drops older records.");
  dev_cmd->add_option("--brokers", dev.brokers, "Number of mock brokers")->capture_default_str();
  dev_cmd->add_flag("!--no-topics", dev.create_topics, "Do not create Jaring's topics");

  CLI11_PARSE(app, argc, argv);

  absl::Status st;
  if (*serve_cmd) st = jaring::server::Serve(serve);
  if (*dev_cmd) st = jaring::server::Devbroker(dev);
  if (!st.ok()) {
    std::fprintf(stderr, "jaring: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
