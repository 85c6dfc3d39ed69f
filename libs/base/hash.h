// Stable hashes. These values are part of Jaring's on-disk and on-wire
// contract: never change them.
#pragma once

#include <cstdint>
#include <string_view>

namespace jaring {

// Kafka's murmur2 (the Java client's default partitioner hash).
uint32_t Murmur2(std::string_view data);

// The partition for a key among `partition_count` partitions, exactly as
// Kafka's Java client and librdkafka's "murmur2" partitioner choose it:
// (murmur2(key) & 0x7fffffff) % partition_count. Both event log backends use
// it, so one family's events land in the same partition on either bus.
// Requires partition_count > 0.
int32_t PartitionForKey(std::string_view key, int32_t partition_count);

// 64-bit FNV-1a, for in-process bucketing only (never persisted).
uint64_t Fnv1a64(std::string_view data);

}  // namespace jaring
