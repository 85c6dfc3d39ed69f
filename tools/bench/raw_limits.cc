#include "tools/bench/raw_limits.h"

#include <algorithm>
#include <memory>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace jaring::bench {

absl::StatusOr<double> RawPuts(const std::string& dir, bool wal, int64_t records, int64_t families,
                               size_t value_size, size_t batch, uint64_t seed, const std::string& key_prefix) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("open ", dir, ": ", s.ToString()));
  std::unique_ptr<rocksdb::DB> db(raw);
  std::mt19937_64 rng(seed);
  std::string value(value_size, 'x');
  for (char& c : value) c = static_cast<char>('a' + rng() % 26);
  rocksdb::WriteOptions wo;
  wo.disableWAL = !wal;
  const absl::Time start = absl::Now();
  rocksdb::WriteBatch wb;
  for (int64_t i = 0; i < records; ++i) {
    const uint64_t fam = rng() % static_cast<uint64_t>(std::max<int64_t>(1, families));
    wb.Put(absl::StrCat(key_prefix, "527101", 1000000000 + fam), value);
    if (wb.Count() >= batch || i + 1 == records) {
      s = db->Write(wo, &wb);
      if (!s.ok()) return absl::UnavailableError(absl::StrCat("raw write: ", s.ToString()));
      wb.Clear();
    }
  }
  if (!wal) db->Flush(rocksdb::FlushOptions());
  return absl::ToDoubleSeconds(absl::Now() - start);
}

}  // namespace jaring::bench
