#include <doctest/doctest.h>

#include <Random123/philox.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "model/Model.hpp"
#include "model/Philox.hpp"

using namespace alignsim;

TEST_CASE("the lane-parallel Philox4x32-10 matches Random123 bit for bit") {
  constexpr int L = kLanes;
  r123::Philox4x32 reference;
  const std::uint32_t counters[][4] = {{0, 0, 0, 0}, {1, 641, 7, 0}, {3, kTagShock, 0xDEADBEEF, 12345}, {~0u, ~0u, ~0u, ~0u}};
  for (const auto& c : counters) {
    for (const std::uint32_t seed_lo : {0u, 42u, 0xFFFFFFFFu}) {
      alignas(64) std::uint32_t k0[L], o0[L], o1[L], o2[L], o3[L];
      for (int l = 0; l < L; ++l) k0[l] = 1000u * static_cast<std::uint32_t>(l) + 7u;
      detail::philox4x32_10<L>(k0, seed_lo, c[0], c[1], c[2], c[3], o0, o1, o2, o3);
      for (int l = 0; l < L; ++l) {
        const r123::Philox4x32::ctr_type ctr = {{c[0], c[1], c[2], c[3]}};
        const r123::Philox4x32::key_type key = {{k0[l], seed_lo}};
        const auto r = reference(ctr, key);
        CHECK(o0[l] == r[0]);
        CHECK(o1[l] == r[1]);
        CHECK(o2[l] == r[2]);
        CHECK(o3[l] == r[3]);
      }
    }
  }
}

TEST_CASE("the portable Philox loop (used without AVX-512) matches Random123 too") {
  constexpr int L = 8;  // any width but 16 takes the portable loop
  r123::Philox4x32 reference;
  alignas(64) std::uint32_t k0[L], o0[L], o1[L], o2[L], o3[L];
  for (int l = 0; l < L; ++l) k0[l] = 977u * static_cast<std::uint32_t>(l) + 3u;
  detail::philox4x32_10<L>(k0, 0xABCDEF01u, 5, 640, 0x1234567u, 99, o0, o1, o2, o3);
  for (int l = 0; l < L; ++l) {
    const r123::Philox4x32::ctr_type ctr = {{5, 640, 0x1234567u, 99}};
    const r123::Philox4x32::key_type key = {{k0[l], 0xABCDEF01u}};
    const auto r = reference(ctr, key);
    CHECK(o0[l] == r[0]);
    CHECK(o1[l] == r[1]);
    CHECK(o2[l] == r[2]);
    CHECK(o3[l] == r[3]);
  }
}

TEST_CASE("normals of several blocks at once are those of one block at a time, bit for bit") {
  constexpr int L = kLanes;
  alignas(64) std::uint32_t k0[L];
  for (int l = 0; l < L; ++l) k0[l] = 31u * static_cast<std::uint32_t>(l) + 5u;
  for (int blocks = 1; blocks <= 11; ++blocks) {  // every grouping the interleaved generator uses
    std::vector<float> together(static_cast<std::size_t>(4 * blocks * L), 0.0f);
    detail::normals_blocks<L>(k0, 0x5EEDu, 3, blocks, 641, kNoiseStream, 7, together.data());
    for (int b = 0; b < blocks; ++b) {
      alignas(64) float z[4][L];
      detail::normals4<L>(k0, 0x5EEDu, 3 + static_cast<std::uint32_t>(b), 641, kNoiseStream, 7, z[0], z[1], z[2], z[3]);
      for (int k = 0; k < 4; ++k) {
        for (int l = 0; l < L; ++l) {
          const float x = together[static_cast<std::size_t>((4 * b + k) * L + l)];
          if (std::memcmp(&x, &z[k][l], sizeof x) != 0) FAIL("blocks " << blocks << ", block " << b << ", normal " << k << ", lane " << l);
        }
      }
    }
  }
}

TEST_CASE("uniforms lie strictly inside (0, 1)") {
  CHECK(detail::uniform01(0u) > 0.0f);
  CHECK(detail::uniform01(0xFFFFFFFFu) < 1.0f);
  CHECK(detail::uniform01(0x80000000u) == doctest::Approx(0.5).epsilon(1e-6));
}

TEST_CASE("Box-Muller normals have mean 0, variance 1 and normal tails") {
  constexpr int L = kLanes;
  alignas(64) std::uint32_t k0[L];
  for (int l = 0; l < L; ++l) k0[l] = static_cast<std::uint32_t>(l);
  double sum = 0, sum2 = 0, beyond2 = 0;
  int n = 0;
  for (std::uint32_t month = 0; month < 20000; ++month) {
    alignas(64) float z[4][L];
    detail::normals4<L>(k0, 9u, 0, month, 0, 0, z[0], z[1], z[2], z[3]);
    for (const auto& row : z) {
      for (const float x : row) {
        sum += x;
        sum2 += double{x} * x;
        beyond2 += std::fabs(x) > 2.0f;
        ++n;
      }
    }
  }
  const double mean = sum / n;
  const double var = sum2 / n - mean * mean;
  // n = 1.28 million: the standard error of the mean is 0.0009, of the variance 0.0013.
  CHECK(std::fabs(mean) < 0.004);
  CHECK(std::fabs(var - 1.0) < 0.006);
  CHECK(beyond2 / n == doctest::Approx(0.0455).epsilon(0.03));  // P(|Z| > 2) = 0.0455
}

TEST_CASE("the unit-circle polynomial gives cos and sin of 2 pi u - pi/4 to float precision") {
  double worst = 0;
  for (int k = 0; k < (1 << 16); ++k) {
    const float u = detail::uniform01(static_cast<std::uint32_t>(k) << 16 | 0x8000u);
    float c = 0, s = 0;
    detail::unit_circle(u, c, s);
    const double angle = 2 * 3.14159265358979323846 * double{u} - 3.14159265358979323846 / 4;
    worst = std::max({worst, std::fabs(c - std::cos(angle)), std::fabs(s - std::sin(angle))});
  }
  CHECK(worst < 5e-7);
}
