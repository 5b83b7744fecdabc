// Built with -ffast-math and -fopenmp-simd (cmake/AlignsimOptions.cmake): the loops over lanes
// below have a fixed trip count, so every lane runs through the same vector code.
#include "Batch.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "Philox.hpp"

namespace alignsim {

namespace {
constexpr int L = kLanes;

void fill(std::vector<LaneF>& v, float x) {
  for (auto& lane : v) {
    for (int l = 0; l < L; ++l) lane[l] = x;
  }
}
}  // namespace

BatchState::BatchState(const Model& m) {
  const std::size_t nn = static_cast<std::size_t>(m.agents() * m.agents());
  const std::size_t nd = static_cast<std::size_t>(m.agents() * m.issues());
  const int pairs = m.agents() * (m.agents() - 1);
  W.resize(nn);
  A.resize(nn);
  next.resize(nn);
  shock.resize(nn);
  inv_third.resize(nn);
  noise.resize(static_cast<std::size_t>((pairs + 3) / 4 * 4));
  position.resize(nd);
  salience.resize(nd);
  capability.resize(static_cast<std::size_t>(m.agents()));
  fired.resize(static_cast<std::size_t>(m.events()));
  scheduled.resize(fired.size());
}

namespace {

class Kernel {
 public:
  Kernel(const Model& m, std::uint64_t seed, BatchState& s)
      : m_(m), s_(s), n_(m.agents()), d_(m.issues()), seed_lo_(static_cast<std::uint32_t>(seed)),
        seed_hi_(static_cast<std::uint32_t>(seed >> 32)) {
    const auto& p = m.parameters();
    ka_ = static_cast<float>(p.k_a);
    kr_ = static_cast<float>(p.k_r);
    kb_ = static_cast<float>(p.k_b);
    sigma_ = static_cast<float>(p.sigma);
  }

  void start() {
    for (int c = 0; c < n_ * d_; ++c) {
      for (int l = 0; l < L; ++l) {
        s_.position[c][l] = m_.position()[c];
        s_.salience[c][l] = m_.salience()[c];
      }
    }
    for (int i = 0; i < n_; ++i) {
      for (int l = 0; l < L; ++l) s_.capability[i][l] = m_.capability()[i];
    }
    affinity();
    third_parties();
    for (int c = 0; c < n_ * n_; ++c) {
      const float w0 = m_.initial_alignment()[c];
      const bool given = m_.initial_set()[c] != 0;
      const bool diagonal = c / n_ == c % n_;
      for (int l = 0; l < L; ++l) s_.W[c][l] = diagonal ? 0.0f : (given ? w0 : s_.A[c][l]);
    }
    fill(s_.shock, 0.0f);
    for (std::size_t k = 0; k < s_.fired.size(); ++k) {
      const auto& e = m_.compiled_events()[k];
      for (int l = 0; l < L; ++l) s_.fired[k][l] = -1;
      if (e.decision) continue;
      if (!e.random_occurrence) {
        for (int l = 0; l < L; ++l) s_.scheduled[k][l] = static_cast<std::int16_t>(e.date);
        continue;
      }
      alignas(64) std::uint32_t w0[L], w1[L], w2[L], w3[L];
      detail::philox4x32_10<L>(s_.key.v, seed_lo_, 0, kTagOccurrence, e.stream, seed_hi_, w0, w1, w2, w3);
      const int span = 2 * e.jitter + 1;
      for (int l = 0; l < L; ++l) {
        const bool happens = detail::uniform01(w0[l]) < e.probability;
        const int offset = std::min(static_cast<int>(detail::uniform01(w1[l]) * static_cast<float>(span)), span - 1) -
                           e.jitter;
        const int month = std::clamp(e.date + offset, 0, m_.months() - 1);
        s_.scheduled[k][l] = static_cast<std::int16_t>(happens ? month : -1);
      }
    }
  }

  void month(int t) {
    bool interests_moved = false;
    bool capabilities_moved = false;
    bool shocked = false;
    for (const int k : m_.candidates(t)) {
      Lanes<int> fire;
      if (!decide(k, t, fire)) continue;
      apply(k, fire, interests_moved, capabilities_moved);
      shocked |= !m_.compiled_events()[k].shocks.empty();
    }
    if (interests_moved) affinity();
    if (capabilities_moved) third_parties();
    step(t);
    if (shocked) fill(s_.shock, 0.0f);
  }

 private:
  /// Which lanes the event fires in this month; false when none.
  bool decide(int k, int t, Lanes<int>& fire) {
    const auto& e = m_.compiled_events()[k];
    const auto& fired = s_.fired;
    if (!e.decision) {
      for (int l = 0; l < L; ++l) fire[l] = s_.scheduled[k][l] == t && fired[k][l] < 0;
    } else {
      alignas(64) float logit[L];
      for (int l = 0; l < L; ++l) logit[l] = e.b0;
      for (std::size_t q = 0; q < e.dyad_coef.size(); ++q) {
        const auto& ab = s_.W[e.dyad_ab[q]];
        const auto& ba = s_.W[e.dyad_ba[q]];
        const float coef = e.dyad_coef[q];
#pragma omp simd
        for (int l = 0; l < L; ++l) logit[l] += coef * 0.5f * (ab[l] + ba[l]);
      }
      // Events count in a hazard from the month after they happened, whatever their order.
      for (std::size_t q = 0; q < e.after.size(); ++q) {
        const auto& other = fired[e.after[q]];
        for (int l = 0; l < L; ++l) logit[l] += other[l] >= 0 && other[l] < t ? e.after_coef[q] : 0.0f;
      }
      alignas(64) std::uint32_t w0[L], w1[L], w2[L], w3[L];
      detail::philox4x32_10<L>(s_.key.v, seed_lo_, 0, static_cast<std::uint32_t>(t), e.stream, seed_hi_, w0, w1,
                               w2, w3);
#pragma omp simd
      for (int l = 0; l < L; ++l) {
        const float hazard = 1.0f / (1.0f + std::exp(-logit[l]));
        fire[l] = fired[k][l] < 0 && detail::uniform01(w0[l]) < hazard;
      }
    }
    for (const int r : e.required) {
      for (int l = 0; l < L; ++l) fire[l] &= fired[r][l] >= 0;
    }
    for (const int x : e.excluded) {
      for (int l = 0; l < L; ++l) fire[l] &= fired[x][l] < 0;
    }
    int any = 0;
    for (int l = 0; l < L; ++l) {
      any |= fire[l];
      if (fire[l]) s_.fired[k][l] = static_cast<std::int16_t>(t);
    }
    return any != 0;
  }

  void apply(int k, const Lanes<int>& fire, bool& interests_moved, bool& capabilities_moved) {
    const auto& e = m_.compiled_events()[k];
    alignas(64) float z[4][L];
    for (std::size_t q = 0; q < e.shocks.size(); ++q) {
      if (q % 4 == 0) {
        detail::normals4<L>(s_.key.v, seed_lo_, static_cast<std::uint32_t>(q / 4), kTagShock, e.stream, seed_hi_, z[0],
                            z[1], z[2], z[3]);
      }
      const auto& shock = e.shocks[q];
      const float* zq = z[q % 4];
      alignas(64) float size[L];
      for (int l = 0; l < L; ++l) size[l] = fire[l] ? shock.mean + shock.sd * zq[l] : 0.0f;
      for (int l = 0; l < L; ++l) s_.shock[shock.ij][l] += size[l];
      if (shock.ji >= 0) {
        for (int l = 0; l < L; ++l) s_.shock[shock.ji][l] += size[l];
      }
    }
    for (const auto& h : e.shifts) {
      auto& pos = s_.position[h.cell];
      auto& sal = s_.salience[h.cell];
      for (int l = 0; l < L; ++l) {
        if (!fire[l]) continue;
        if (h.set_position) pos[l] = h.position;
        if (h.add_position) pos[l] = std::clamp(pos[l] + h.position, -1.0f, 1.0f);
        if (h.set_salience) sal[l] = h.salience;
        if (h.add_salience) sal[l] = std::max(sal[l] + h.salience, 0.0f);
      }
      interests_moved = true;
    }
    for (const auto& c : e.capabilities) {
      auto& cap = s_.capability[c.agent];
      for (int l = 0; l < L; ++l) {
        if (fire[l]) cap[l] = c.multiply ? cap[l] * c.value : c.value;
      }
      capabilities_moved = true;
    }
  }

  /// A[i,j] = 1 - sum_d s[i,d] |p[i,d] - p[j,d]|, with each agent's saliences normalised.
  void affinity() {
    for (int i = 0; i < n_; ++i) {
      alignas(64) float total[L] = {};
      for (int d = 0; d < d_; ++d) {
        const auto& sal = s_.salience[i * d_ + d];
#pragma omp simd
        for (int l = 0; l < L; ++l) total[l] += sal[l];
      }
      for (int j = 0; j < n_; ++j) {
        if (i == j) continue;
        alignas(64) float distance[L] = {};
        for (int d = 0; d < d_; ++d) {
          const auto& sal = s_.salience[i * d_ + d];
          const auto& pi = s_.position[i * d_ + d];
          const auto& pj = s_.position[j * d_ + d];
#pragma omp simd
          for (int l = 0; l < L; ++l) distance[l] += sal[l] * std::fabs(pi[l] - pj[l]);
        }
        auto& a = s_.A[i * n_ + j];
#pragma omp simd
        for (int l = 0; l < L; ++l) a[l] = total[l] > 0.0f ? 1.0f - distance[l] / total[l] : 0.0f;
      }
    }
  }

  /// 1 / sum of the capabilities of the third parties of each pair (0 when there are none).
  void third_parties() {
    alignas(64) float total[L] = {};
    for (int k = 0; k < n_; ++k) {
#pragma omp simd
      for (int l = 0; l < L; ++l) total[l] += s_.capability[k][l];
    }
    for (int i = 0; i < n_; ++i) {
      for (int j = 0; j < n_; ++j) {
        if (i == j) continue;
        auto& inv = s_.inv_third[i * n_ + j];
        const auto& ci = s_.capability[i];
        const auto& cj = s_.capability[j];
#pragma omp simd
        for (int l = 0; l < L; ++l) {
          const float third = total[l] - ci[l] - cj[l];
          inv[l] = n_ > 2 ? 1.0f / third : 0.0f;
        }
      }
    }
  }

  void step(int t) {
    const int pairs = n_ * (n_ - 1);
    auto& noise = s_.noise;
    for (int q = 0; q < pairs; q += 4) {
      detail::normals4<L>(s_.key.v, seed_lo_, static_cast<std::uint32_t>(q / 4), static_cast<std::uint32_t>(t),
                          kNoiseStream, seed_hi_, noise[q].v, noise[q + 1].v, noise[q + 2].v, noise[q + 3].v);
    }
    const auto& W = s_.W;
    int q = 0;
    for (int i = 0; i < n_; ++i) {
      for (int j = 0; j < n_; ++j) {
        if (i == j) continue;
        const int ij = i * n_ + j;
        alignas(64) float balance[L] = {};
        for (int k = 0; k < n_; ++k) {
          if (k == i || k == j) continue;
          const auto& c = s_.capability[k];
          const auto& wik = W[i * n_ + k];
          const auto& wkj = W[k * n_ + j];
#pragma omp simd
          for (int l = 0; l < L; ++l) balance[l] += c[l] * wik[l] * wkj[l];
        }
        const float* __restrict w = W[ij].v;
        const float* __restrict wr = W[j * n_ + i].v;
        const float* __restrict a = s_.A[ij].v;
        const float* __restrict inv = s_.inv_third[ij].v;
        const float* __restrict z = noise[q].v;
        const float* __restrict shock = s_.shock[ij].v;
        float* __restrict out = s_.next[ij].v;
        const float ka = ka_, kr = kr_, kb = kb_, sigma = sigma_;
#pragma omp simd
        for (int l = 0; l < L; ++l) {
          const float x = w[l] + ka * (a[l] - w[l]) + kr * (wr[l] - w[l]) + kb * balance[l] * inv[l] +
                          sigma * z[l] + shock[l];
          out[l] = x > 1.0f ? 1.0f : (x < -1.0f ? -1.0f : x);
        }
        ++q;
      }
    }
    for (int i = 0; i < n_; ++i) s_.next[i * n_ + i] = s_.W[i * n_ + i];
    std::swap(s_.W, s_.next);
  }

  const Model& m_;
  BatchState& s_;
  int n_, d_;
  std::uint32_t seed_lo_, seed_hi_;
  float ka_{}, kr_{}, kb_{}, sigma_{};
};

}  // namespace

void simulate_batch(const Model& model, std::uint64_t seed, std::uint64_t first_run, int valid, BatchState& state,
                    BatchObserver& observer) {
  state.first_run = first_run;
  state.valid = valid;
  for (int l = 0; l < L; ++l) state.key[l] = static_cast<std::uint32_t>(first_run + static_cast<std::uint64_t>(l));
  Kernel kernel(model, seed, state);
  kernel.start();
  for (int t = 0; t < model.months(); ++t) {
    kernel.month(t);
    observer.on_month(t, state);
  }
}

}  // namespace alignsim
