#pragma once
/// The addresses of random numbers (docs/model.md, "Randomness"): which Philox stream and counter
/// tags each kind of draw uses. One home for them, read by the kernel and by the loader's check that
/// no two ids share a stream.

#include <cstdint>
#include <string>
#include <string_view>

namespace alignsim {

inline constexpr std::uint32_t kNoiseStream = 0;             ///< the dynamics noise
inline constexpr std::uint32_t kTagOccurrence = 0xFFFFFFF0u;  ///< month word: probability and jitter
inline constexpr std::uint32_t kTagShock = 0xFFFFFFF1u;       ///< month word: shock magnitudes
/// Month word, with the noise stream: which draw of a posterior a run takes (`ensemble --posterior`).
inline constexpr std::uint32_t kTagPosteriorDraw = 0xFFFFFFF2u;

/// The 64-bit FNV-1a hash of the bytes of `text` (offset basis 0xcbf29ce484222325, prime
/// 0x100000001b3): the hash of stream ids and of the base scenario an overlay records.
inline std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char ch : text) {
    h ^= ch;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// fnv1a64(text) as 16 lower-case hex digits.
inline std::string fnv1a64_hex(std::string_view text) {
  std::uint64_t h = fnv1a64(text);
  std::string hex(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) hex[static_cast<std::size_t>(i)] = "0123456789abcdef"[h & 15];
  return hex;
}

/// The 32-bit random stream of an event or a choice, from its id: a 64-bit FNV-1a hash folded to 32
/// bits (high word XOR low word), never 0 (0 is the noise).
inline std::uint32_t event_stream(std::string_view id) {
  const std::uint64_t h = fnv1a64(id);
  const auto folded = static_cast<std::uint32_t>(h ^ (h >> 32));
  return folded == 0 ? 1u : folded;
}

}  // namespace alignsim
