// `jaring-bench ledger`: the disbursement ledger in process, on the embedded
// log, with the raw limits beside it in the same run.
//
//   1. `families` family cards and one eligible BPNT decision each
//      (Rp400,000 for 2026-11/12) appended directly to the log, as the
//      population and eligibility services would have; the ledger's
//      projection catches up from an empty store.
//   2. Postings with durable group commit: `clients` threads each
//      allocating small budgets, one command (one entry, two postings, one
//      fsynced append, read back) at a time.
//   3. One whole cycle for every family: open (an entitlement each), export
//      (an instruction each, and the CSV file), the channel's statement (all
//      paid) imported, close (the Merkle root); each phase timed.
//   4. Raw limits: plain RocksDB WriteBatch puts, and embedded-log appends of
//      the same number of records in batches of the same size.
#pragma once

#include <cstdint>
#include <string>

namespace jaring::bench {

struct LedgerBenchFlags {
  int64_t families = 1000000;
  int clients = 8;
  // Budget commands per client in step 2.
  int commands = 500;
  std::string dir;
  bool json = false;
};

int LedgerBench(const LedgerBenchFlags& flags);

}  // namespace jaring::bench
