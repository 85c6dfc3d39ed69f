#include "libs/base/hash.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <string>

#include "libs/base/coding.h"

namespace jaring {
namespace {

// Our partitioner must agree with librdkafka's murmur2 partitioner (which
// matches the Java client), so a family lands in the same partition whichever
// client wrote it.
TEST(HashTest, PartitionForKeyMatchesLibrdkafkaMurmur2) {
  for (int32_t partitions : {1, 3, 8, 12, 64}) {
    for (int i = 0; i < 2000; ++i) {
      std::string key = std::to_string(5271000000000000LL + i * 7919LL);
      if (i % 7 == 0) key.resize(static_cast<size_t>(i % 5));  // short keys and the empty key
      EXPECT_EQ(PartitionForKey(key, partitions),
                rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions,
                                                 nullptr, nullptr))
          << "key '" << key << "' partitions " << partitions;
    }
  }
}

TEST(CodingTest, BigEndianOrdersLikeNumbers) {
  std::string a, b;
  PutFixed64BE(&a, 255);
  PutFixed64BE(&b, 256);
  EXPECT_LT(a, b);
  EXPECT_EQ(DecodeFixed64BE(a.data()), 255u);
  std::string n, p;
  PutOrderedInt64(&n, -5);
  PutOrderedInt64(&p, 3);
  EXPECT_LT(n, p);
  EXPECT_EQ(DecodeOrderedInt64(n.data()), -5);
  std::string c;
  PutFixed32BE(&c, 0x01020304);
  EXPECT_EQ(DecodeFixed32BE(c.data()), 0x01020304u);
}

}  // namespace
}  // namespace jaring
