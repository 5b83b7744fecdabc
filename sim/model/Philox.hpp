#pragma once
/// Philox4x32-10 (Salmon et al. 2011) advanced for many keys at once, in plain arrays that GCC
/// vectorises, and the Box-Muller transform on its output. Bit-identical to Random123's
/// philox4x32 (tests/model/test_philox.cpp checks it against the library).

#include <cmath>
#include <cstddef>
#include <cstdint>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace alignsim::detail {

/// Counter words: c0 = slot, c1 = month (or a tag), c2 = stream, c3 = high half of the seed.
/// Key words: k0 = run index (one per lane), k1 = low half of the seed.
#if defined(__AVX512F__)
/// hi and lo halves of the 32 x 32 -> 64-bit products of 16 lanes by a constant, with the
/// single-uop even-lane multiply (GCC 12 widens to 64-bit lanes and uses the 3-uop vpmullq instead).
/// (The zero-masked forms of the intrinsics: GCC 12 warns falsely about the unmasked ones'
/// "undefined" pass-through operand.)
inline void mulhilo16(__m512i x, __m512i m, __m512i& hi, __m512i& lo) {
  constexpr __mmask8 all = 0xFF;
  const __m512i even = _mm512_maskz_mul_epu32(all, x, m);
  const __m512i odd = _mm512_maskz_mul_epu32(all, _mm512_maskz_srli_epi64(all, x, 32), m);
  lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(all, odd, 32));
  hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_maskz_srli_epi64(all, even, 32), odd);
}

/// Sixteen lanes in one register each: bit-identical to the portable loop below.
inline void philox4x32_10_x16(const std::uint32_t* __restrict k0, std::uint32_t k1, std::uint32_t c0,
                              std::uint32_t c1, std::uint32_t c2, std::uint32_t c3, std::uint32_t* __restrict o0,
                              std::uint32_t* __restrict o1, std::uint32_t* __restrict o2,
                              std::uint32_t* __restrict o3) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(0xCD9E8D57u));
  __m512i x0 = _mm512_set1_epi32(static_cast<int>(c0)), x1 = _mm512_set1_epi32(static_cast<int>(c1));
  __m512i x2 = _mm512_set1_epi32(static_cast<int>(c2)), x3 = _mm512_set1_epi32(static_cast<int>(c3));
  __m512i ka = _mm512_loadu_si512(k0), kb = _mm512_set1_epi32(static_cast<int>(k1));
  const __m512i wa = _mm512_set1_epi32(static_cast<int>(0x9E3779B9u));
  const __m512i wb = _mm512_set1_epi32(static_cast<int>(0xBB67AE85u));
  for (int r = 0; r < 10; ++r) {
    __m512i hi0, lo0, hi1, lo1;
    mulhilo16(x0, m0, hi0, lo0);
    mulhilo16(x2, m1, hi1, lo1);
    x0 = _mm512_ternarylogic_epi32(hi1, x1, ka, 0x96);  // three-way xor
    x2 = _mm512_ternarylogic_epi32(hi0, x3, kb, 0x96);
    x1 = lo1;
    x3 = lo0;
    ka = _mm512_add_epi32(ka, wa);
    kb = _mm512_add_epi32(kb, wb);
  }
  _mm512_storeu_si512(o0, x0);
  _mm512_storeu_si512(o1, x1);
  _mm512_storeu_si512(o2, x2);
  _mm512_storeu_si512(o3, x3);
}

/// K blocks of sixteen lanes with counters (c0 + b, c1, c2, c3), b = 0 .. K - 1, advanced together:
/// a round of one block waits on its multiplies, so interleaving independent blocks fills those waits.
/// out[b] gets block b's four words, sixteen lanes each. Bit-identical to K calls of philox4x32_10_x16.
template <int K>
inline void philox4x32_10_x16_blocks(const std::uint32_t* __restrict k0, std::uint32_t k1, std::uint32_t c0,
                                     std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                                     std::uint32_t (*__restrict out)[4][16]) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(0xCD9E8D57u));
  __m512i x0[K], x1[K], x2[K], x3[K];
  for (int b = 0; b < K; ++b) {
    x0[b] = _mm512_set1_epi32(static_cast<int>(c0 + static_cast<std::uint32_t>(b)));
    x1[b] = _mm512_set1_epi32(static_cast<int>(c1));
    x2[b] = _mm512_set1_epi32(static_cast<int>(c2));
    x3[b] = _mm512_set1_epi32(static_cast<int>(c3));
  }
  __m512i ka = _mm512_loadu_si512(k0), kb = _mm512_set1_epi32(static_cast<int>(k1));
  const __m512i wa = _mm512_set1_epi32(static_cast<int>(0x9E3779B9u));
  const __m512i wb = _mm512_set1_epi32(static_cast<int>(0xBB67AE85u));
  for (int r = 0; r < 10; ++r) {
    for (int b = 0; b < K; ++b) {
      __m512i hi0, lo0, hi1, lo1;
      mulhilo16(x0[b], m0, hi0, lo0);
      mulhilo16(x2[b], m1, hi1, lo1);
      x0[b] = _mm512_ternarylogic_epi32(hi1, x1[b], ka, 0x96);
      x2[b] = _mm512_ternarylogic_epi32(hi0, x3[b], kb, 0x96);
      x1[b] = lo1;
      x3[b] = lo0;
    }
    ka = _mm512_add_epi32(ka, wa);
    kb = _mm512_add_epi32(kb, wb);
  }
  for (int b = 0; b < K; ++b) {
    _mm512_storeu_si512(out[b][0], x0[b]);
    _mm512_storeu_si512(out[b][1], x1[b]);
    _mm512_storeu_si512(out[b][2], x2[b]);
    _mm512_storeu_si512(out[b][3], x3[b]);
  }
}
#endif

template <int L>
inline void philox4x32_10(const std::uint32_t* __restrict k0, std::uint32_t k1, std::uint32_t c0, std::uint32_t c1,
                          std::uint32_t c2, std::uint32_t c3, std::uint32_t* __restrict o0,
                          std::uint32_t* __restrict o1, std::uint32_t* __restrict o2,
                          std::uint32_t* __restrict o3) {
#if defined(__AVX512F__)
  if constexpr (L == 16) {
    philox4x32_10_x16(k0, k1, c0, c1, c2, c3, o0, o1, o2, o3);
    return;
  }
#endif
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

/// cos and sin of a uniform angle on the circle, from a uniform u in (0, 1): the angle is
/// 2 pi u - pi / 4, reduced exactly to a quadrant q and x in [-pi/4, pi/4), where Cephes's
/// single-precision minimax polynomials give sin x and cos x to about one ulp. Cheaper than two
/// vector cosf calls, whose general range reduction the uniform angle does not need.
inline void unit_circle(float u, float& c, float& s) {
  const float t = 4.0f * u;  // exact
  const int q = static_cast<int>(t);
  const float x = (t - static_cast<float>(q) - 0.5f) * 1.5707963267948966f;
  const float x2 = x * x;
  const float sx = x + x * x2 * (-1.6666654611e-1f + x2 * (8.3321608736e-3f + x2 * -1.9515295891e-4f));
  const float cx = 1.0f - 0.5f * x2 + x2 * x2 * (4.166664568298827e-2f + x2 * (-1.388731625493765e-3f + x2 * 2.443315711809948e-5f));
  c = q == 0 ? cx : q == 1 ? -sx : q == 2 ? -cx : sx;
  s = q == 0 ? sx : q == 1 ? cx : q == 2 ? -sx : -cx;
}

/// Box-Muller on the words of one Philox block: four standard normals per lane, from words (0, 1)
/// and (2, 3).
template <int L>
inline void box_muller(const std::uint32_t* __restrict w0, const std::uint32_t* __restrict w1,
                       const std::uint32_t* __restrict w2, const std::uint32_t* __restrict w3, float* __restrict z0,
                       float* __restrict z1, float* __restrict z2, float* __restrict z3) {
#pragma omp simd
  for (int l = 0; l < L; ++l) {
    const float ra = std::sqrt(-2.0f * std::log(uniform01(w0[l])));
    const float rb = std::sqrt(-2.0f * std::log(uniform01(w2[l])));
    float ca, sa, cb, sb;
    unit_circle(uniform01(w1[l]), ca, sa);
    unit_circle(uniform01(w3[l]), cb, sb);
    z0[l] = ra * ca;
    z1[l] = ra * sa;
    z2[l] = rb * cb;
    z3[l] = rb * sb;
  }
}

/// Four standard normals per lane from one Philox block: Box-Muller on words (0, 1) and (2, 3).
template <int L>
inline void normals4(const std::uint32_t* __restrict k0, std::uint32_t k1, std::uint32_t c0, std::uint32_t c1,
                     std::uint32_t c2, std::uint32_t c3, float* __restrict z0, float* __restrict z1,
                     float* __restrict z2, float* __restrict z3) {
  alignas(64) std::uint32_t w0[L], w1[L], w2[L], w3[L];
  philox4x32_10<L>(k0, k1, c0, c1, c2, c3, w0, w1, w2, w3);
  box_muller<L>(w0, w1, w2, w3, z0, z1, z2, z3);
}

/// 4 * blocks standard normals per lane, from the blocks with counters (c0 + b, c1, c2, c3),
/// b = 0 .. blocks - 1: z + (4 * b + k) * L gets normal k of block b, the same numbers as
/// normals4(k0, k1, c0 + b, c1, c2, c3, ...) gives.
template <int L>
inline void normals_blocks(const std::uint32_t* __restrict k0, std::uint32_t k1, std::uint32_t c0, int blocks,
                           std::uint32_t c1, std::uint32_t c2, std::uint32_t c3, float* __restrict z) {
  int b = 0;
#if defined(__AVX512F__)
  if constexpr (L == 16) {
    alignas(64) std::uint32_t w[4][4][16];
    const auto normals = [&](int count) {
      for (int k = 0; k < count; ++k) {
        float* out = z + static_cast<std::size_t>(4 * (b + k)) * L;
        box_muller<L>(w[k][0], w[k][1], w[k][2], w[k][3], out, out + L, out + 2 * L, out + 3 * L);
      }
      b += count;
    };
    for (; blocks - b >= 4;) {
      philox4x32_10_x16_blocks<4>(k0, k1, c0 + static_cast<std::uint32_t>(b), c1, c2, c3, w);
      normals(4);
    }
    switch (blocks - b) {
      case 3: philox4x32_10_x16_blocks<3>(k0, k1, c0 + static_cast<std::uint32_t>(b), c1, c2, c3, w); normals(3); break;
      case 2: philox4x32_10_x16_blocks<2>(k0, k1, c0 + static_cast<std::uint32_t>(b), c1, c2, c3, w); normals(2); break;
      default: break;
    }
  }
#endif
  for (; b < blocks; ++b) {
    float* out = z + static_cast<std::size_t>(4 * b) * L;
    normals4<L>(k0, k1, c0 + static_cast<std::uint32_t>(b), c1, c2, c3, out, out + L, out + 2 * L, out + 3 * L);
  }
}

}  // namespace alignsim::detail
