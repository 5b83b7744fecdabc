#pragma once
/// Philox4x32-10 (Salmon et al. 2011) advanced for many keys at once, in plain arrays that GCC
/// vectorises, and the Box-Muller transform on its output. Bit-identical to Random123's
/// philox4x32 (tests/model/test_philox.cpp checks it against the library).

#include <cmath>
#include <cstdint>

namespace alignsim::detail {

/// Counter words: c0 = slot, c1 = month (or a tag), c2 = stream, c3 = high half of the seed.
/// Key words: k0 = run index (one per lane), k1 = low half of the seed.
template <int L>
inline void philox4x32_10(const std::uint32_t* __restrict k0, std::uint32_t k1, std::uint32_t c0, std::uint32_t c1,
                          std::uint32_t c2, std::uint32_t c3, std::uint32_t* __restrict o0,
                          std::uint32_t* __restrict o1, std::uint32_t* __restrict o2,
                          std::uint32_t* __restrict o3) {
#pragma omp simd
  for (int l = 0; l < L; ++l) {
    std::uint32_t x0 = c0, x1 = c1, x2 = c2, x3 = c3;
    std::uint32_t ka = k0[l], kb = k1;
    for (int r = 0; r < 10; ++r) {
      const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * x0;
      const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * x2;
      const std::uint32_t y0 = static_cast<std::uint32_t>(p1 >> 32) ^ x1 ^ ka;
      const std::uint32_t y2 = static_cast<std::uint32_t>(p0 >> 32) ^ x3 ^ kb;
      x1 = static_cast<std::uint32_t>(p1);
      x3 = static_cast<std::uint32_t>(p0);
      x0 = y0;
      x2 = y2;
      ka += 0x9E3779B9u;
      kb += 0xBB67AE85u;
    }
    o0[l] = x0;
    o1[l] = x1;
    o2[l] = x2;
    o3[l] = x3;
  }
}

/// A uniform float in (0, 1) from 23 bits of a word: (2k + 1) * 2^-24, never 0 or 1.
inline float uniform01(std::uint32_t w) {
  return static_cast<float>(w >> 9) * 0x1p-23f + 0x1p-24f;
}

/// Four standard normals per lane from one Philox block (Box-Muller on words (0,1) and (2,3)).
/// The sine is taken as cos(theta - pi/2) so that GCC does not fuse sin and cos into sincos,
/// which has no vector version.
template <int L>
inline void normals4(const std::uint32_t* __restrict k0, std::uint32_t k1, std::uint32_t c0, std::uint32_t c1,
                     std::uint32_t c2, std::uint32_t c3, float* __restrict z0, float* __restrict z1,
                     float* __restrict z2, float* __restrict z3) {
  alignas(64) std::uint32_t w0[L], w1[L], w2[L], w3[L];
  philox4x32_10<L>(k0, k1, c0, c1, c2, c3, w0, w1, w2, w3);
  constexpr float two_pi = 6.283185307179586f;
  constexpr float half_pi = 1.5707963267948966f;
#pragma omp simd
  for (int l = 0; l < L; ++l) {
    const float ra = std::sqrt(-2.0f * std::log(uniform01(w0[l])));
    const float ta = two_pi * uniform01(w1[l]);
    const float rb = std::sqrt(-2.0f * std::log(uniform01(w2[l])));
    const float tb = two_pi * uniform01(w3[l]);
    z0[l] = ra * std::cos(ta);
    z1[l] = ra * std::cos(ta - half_pi);
    z2[l] = rb * std::cos(tb);
    z3[l] = rb * std::cos(tb - half_pi);
  }
}

}  // namespace alignsim::detail
