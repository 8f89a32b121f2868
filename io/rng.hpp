// A random source whose draws are the same on every platform and standard library (std:: distributions are
// not).
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace pixab {

class PortableRng {
 public:
  explicit PortableRng(std::uint64_t seed) : engine_(seed) {}

  // Uniform integer in [0, n), by rejection (no modulo bias). n > 0.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t r;
    do {
      r = engine_();
    } while (r >= limit);
    return r % n;
  }

  // Uniform integer in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }

  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  std::uint64_t next() { return engine_(); }

 private:
  std::mt19937_64 engine_;  // its output sequence is fixed by the C++ standard
};

// The seed of an item's own draws: the run's seed and the item's id, mixed (FNV-1a over the id, then the
// splitmix64 finaliser) so that neighbouring seeds and similar ids give unrelated streams. It depends on
// nothing else: not the rank, the batch, the order of processing or the device.
inline std::uint64_t item_seed(std::uint64_t seed, const std::string& id) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const unsigned char c : id) hash = (hash ^ c) * 0x100000001b3ULL;
  std::uint64_t z = seed ^ hash;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace pixab
