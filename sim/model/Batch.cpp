// Built with -ffast-math and -fopenmp-simd (cmake/AlignsimOptions.cmake): the loops over lanes
// below have a fixed trip count, so every lane runs through the same vector code.
#include "Batch.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "Philox.hpp"

namespace alignsim {

namespace detail {

// libmvec's expf, log1pf and expm1f round differently from libm's in the last bits: the vector
// hazard stays within 1e-5 (relative) of the scalar one, as tests/model/test_hazard.cpp checks.
// Draws further than kHazardMargin from the vector hazard are decided by it, the rare others by the
// scalar hazard, so every outcome is the one the scalar hazard gives, at the cost of the vector one.
constexpr float kHazardMargin = 1e-4f;

void decision_hazards(const float* __restrict eta, float inv_months, float* __restrict hazard) {
#pragma omp simd
  for (int l = 0; l < kLanes; ++l) {
    const float softplus = (eta[l] > 0.0f ? eta[l] : 0.0f) + std::log1p(std::exp(-std::fabs(eta[l])));
    hazard[l] = -std::expm1(-softplus * inv_months);
  }
}

// Not inlined, so that GCC keeps it scalar: libm's functions, as the outcome requires.
__attribute__((noinline)) float decision_hazard(float eta, float inv_months) {
  const float softplus = std::max(eta, 0.0f) + std::log1p(std::exp(-std::fabs(eta)));
  return -std::expm1(-softplus * inv_months);
}

float decision_hazard_bound(float eta, float inv_months) {
  // h = -expm1(-softplus(eta) / L) <= softplus(eta) / L <= (max(eta, 0) + log 2) / L, with room for
  // the rounding of the scalar hazard.
  return (std::max(eta, 0.0f) + 0.6932f) * inv_months * 1.001f + 1e-6f;
}

void decisions_fire(const float* __restrict u, const float* __restrict fast, const float* __restrict eta,
                    float inv_months, int* __restrict fire) {
  alignas(64) int unsure[kLanes];
  int any = 0;
#pragma omp simd reduction(| : any)
  for (int l = 0; l < kLanes; ++l) {
    const float margin = kHazardMargin * fast[l] + 1e-30f;
    const bool below = u[l] < fast[l] - margin;
    const bool above = u[l] > fast[l] + margin;
    unsure[l] = fire[l] && !below && !above;
    fire[l] = fire[l] && below;
    any |= unsure[l];
  }
  if (any == 0) return;
  for (int l = 0; l < kLanes; ++l) {
    if (unsure[l]) fire[l] = u[l] < decision_hazard(eta[l], inv_months);
  }
}

}  // namespace detail

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
  inv_others.resize(static_cast<std::size_t>(m.agents()));
  noise.resize(static_cast<std::size_t>((pairs + 3) / 4 * 4));
  position.resize(nd);
  salience.resize(nd);
  anchor.resize(nd);
  drift.resize(nd);
  scratch.resize(static_cast<std::size_t>(2 * m.agents()));
  capability.resize(static_cast<std::size_t>(m.agents()));
  theta.resize(m.theta().size());
  fired.resize(static_cast<std::size_t>(m.events()));
  scheduled.resize(fired.size());
  pick.resize(m.choices().size());
}

namespace {

class Kernel {
 public:
  Kernel(const Model& m, std::uint64_t seed, BatchState& s)
      : m_(m), s_(s), n_(m.agents()), d_(m.issues()), seed_lo_(static_cast<std::uint32_t>(seed)),
        seed_hi_(static_cast<std::uint32_t>(seed >> 32)) {}

  void start() {
    const auto& th = s_.theta;
    dynamics_ = false;
    for (int l = 0; l < L; ++l) dynamics_ |= th[theta::kKP][l] != 0.0f || th[theta::kK0][l] != 0.0f;
    for (int c = 0; c < n_ * d_; ++c) {
      for (int l = 0; l < L; ++l) {
        s_.position[c][l] = m_.position()[c];
        s_.anchor[c][l] = m_.position()[c];
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
      if (e.decision()) continue;
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
    if (capabilities_moved) third_parties();
    if (dynamics_) {
      interests();
    } else if (interests_moved) {
      affinity();
    }
    step(t);
    if (shocked) fill(s_.shock, 0.0f);
  }

 private:
  /// Whether the event's requires and excludes allow it in each lane, from what fired before.
  void gates(const CompiledEvent& e, Lanes<int>& ok) const {
    for (int l = 0; l < L; ++l) ok[l] = 1;
    for (const int r : e.required) {
      for (int l = 0; l < L; ++l) ok[l] &= s_.fired[r][l] >= 0;
    }
    for (const int x : e.excluded) {
      for (int l = 0; l < L; ++l) ok[l] &= s_.fired[x][l] < 0;
    }
  }

  /// The logit eta of a decision or option in each lane, from the state at the start of month t.
  void logit(const CompiledLogit& g, int t, float* eta) const {
    alignas(64) float terms[L] = {};
    const auto& W = s_.W;
    for (std::size_t q = 0; q < g.dyad_coef.size(); ++q) {
      const auto& ab = W[g.dyad_ab[q]];
      const auto& ba = W[g.dyad_ba[q]];
      const float coef = 0.5f * g.dyad_coef[q];
#pragma omp simd
      for (int l = 0; l < L; ++l) terms[l] += coef * (ab[l] + ba[l]);
    }
    for (std::size_t q = 0; q < g.interest_coef.size(); ++q) {
      const auto& p = s_.position[g.interest_cell[q]];
      const float coef = g.interest_coef[q];
#pragma omp simd
      for (int l = 0; l < L; ++l) terms[l] += coef * p[l];
    }
    // Events count from the month after they happened, whatever their order within a month.
    for (std::size_t q = 0; q < g.after.size(); ++q) {
      const auto& other = s_.fired[g.after[q]];
      for (int l = 0; l < L; ++l) terms[l] += other[l] >= 0 && other[l] < t ? g.after_coef[q] : 0.0f;
    }
    for (std::size_t q = 0; q < g.power_coef.size(); ++q) {
      const auto& ca = s_.capability[g.power_a[q]];
      const auto& cb = s_.capability[g.power_b[q]];
      const float coef = g.power_coef[q];
#pragma omp simd
      for (int l = 0; l < L; ++l) terms[l] += coef * std::log(ca[l] / cb[l]);
    }
    const auto& b0 = s_.theta[g.b0];
    const auto& r = s_.theta[g.response];
#pragma omp simd
    for (int l = 0; l < L; ++l) eta[l] = b0[l] + r[l] * terms[l];
  }

  /// Which lanes the event fires in this month; false when none.
  bool decide(int k, int t, Lanes<int>& fire) {
    const auto& e = m_.compiled_events()[k];
    const auto& fired = s_.fired;
    if (e.type == CompiledEvent::Type::Option) {
      const int c = e.choice;
      if (k == m_.choices()[c].first) choose(c, t);
      for (int l = 0; l < L; ++l) fire[l] = s_.pick[c][l] == k;
    } else {
      gates(e, fire);
      if (e.type == CompiledEvent::Type::Scheduled) {
        for (int l = 0; l < L; ++l) fire[l] &= s_.scheduled[k][l] == t && fired[k][l] < 0;
      } else {
        // P = logistic(eta) is the chance of acting within the window at a constant state; the
        // month's hazard h = 1 - (1 - P)^(1/L), with log(1 - P) = -softplus(eta). Lanes that cannot
        // fire (not allowed, or fired already) skip the draw's comparison, and when no lane can, the
        // logit and the draw are not computed at all (a draw depends only on its counter).
        int live = 0;
        for (int l = 0; l < L; ++l) {
          fire[l] = fire[l] && fired[k][l] < 0;
          live |= fire[l];
        }
        if (live == 0) return false;
        alignas(64) float eta[L];
        logit(e.logit, t, eta);
        const float inv_months = 1.0f / static_cast<float>(e.window_to - e.window_from + 1);
        alignas(64) std::uint32_t w0[L], w1[L], w2[L], w3[L];
        detail::philox4x32_10<L>(s_.key.v, seed_lo_, 0, static_cast<std::uint32_t>(t), e.stream, seed_hi_, w0, w1,
                                 w2, w3);
        alignas(64) float hazard[L], u[L];
        // When every lane that may fire drew above a bound of the hazard, none fires and the hazard
        // itself is not needed.
        int maybe = 0;
#pragma omp simd reduction(| : maybe)
        for (int l = 0; l < L; ++l) {
          u[l] = detail::uniform01(w0[l]);
          maybe |= fire[l] && u[l] <= detail::decision_hazard_bound(eta[l], inv_months);
        }
        if (maybe == 0) return false;
        detail::decision_hazards(eta, inv_months, hazard);
        detail::decisions_fire(u, hazard, eta, inv_months, fire.v);
      }
    }
    int any = 0;
    for (int l = 0; l < L; ++l) {
      any |= fire[l];
      if (fire[l]) s_.fired[k][l] = static_cast<std::int16_t>(t);
    }
    return any != 0;
  }

  /// Makes choice c in month t: s_.pick[c] gets, per lane, the processing position of the option
  /// chosen this month, or -1.
  void choose(int c, int t) {
    const auto& ch = m_.choices()[c];
    auto& pick = s_.pick[c];
    Lanes<int> open;  // the choice has not been made yet
    for (int l = 0; l < L; ++l) {
      pick[l] = -1;
      open[l] = 1;
    }
    for (const int k : ch.options) {
      for (int l = 0; l < L; ++l) open[l] &= s_.fired[k][l] < 0;
    }
    if (ch.forced >= 0) {
      if (t != ch.forced_month) return;
      Lanes<int> ok;
      gates(m_.compiled_events()[ch.forced], ok);
      for (int l = 0; l < L; ++l) pick[l] = open[l] && ok[l] ? static_cast<std::int16_t>(ch.forced) : -1;
      return;
    }
    const int options = static_cast<int>(ch.options.size());
    if (options == 0) return;
    // Multinomial logit with "none" at 0: weights exp(eta_k - m), m = max(0, eta_k) for stability.
    alignas(64) float weight[16][L];
    alignas(64) float top[L] = {};
    const int used = std::min(options, 16);
    for (int o = 0; o < used; ++o) {
      const auto& e = m_.compiled_events()[ch.options[o]];
      logit(e.logit, t, weight[o]);
      Lanes<int> ok;
      gates(e, ok);
      for (int l = 0; l < L; ++l) weight[o][l] = ok[l] ? weight[o][l] : -1e30f;  // no infinities under -ffast-math
#pragma omp simd
      for (int l = 0; l < L; ++l) top[l] = std::max(top[l], weight[o][l]);
    }
    alignas(64) float total[L] = {};
    for (int o = 0; o < used; ++o) {
#pragma omp simd
      for (int l = 0; l < L; ++l) {
        weight[o][l] = std::exp(weight[o][l] - top[l]);
        total[l] += weight[o][l];
      }
    }
    alignas(64) std::uint32_t w0[L], w1[L], w2[L], w3[L];
    detail::philox4x32_10<L>(s_.key.v, seed_lo_, 0, static_cast<std::uint32_t>(t), ch.stream, seed_hi_, w0, w1, w2,
                             w3);
    const float inv_months = 1.0f / static_cast<float>(ch.window_to - ch.window_from + 1);
    alignas(64) float act[L];
#pragma omp simd
    for (int l = 0; l < L; ++l) {
      // log P_none = -log(1 + sum exp(eta)) = -(m + log(exp(-m) + sum exp(eta - m))).
      const float log_none = -(top[l] + std::log(std::exp(-top[l]) + total[l]));
      const float hazard = -std::expm1(log_none * inv_months);
      act[l] = open[l] && total[l] > 0.0f && detail::uniform01(w0[l]) < hazard ? 1.0f : 0.0f;
    }
    for (int l = 0; l < L; ++l) {
      if (act[l] == 0.0f) continue;
      const float target = detail::uniform01(w1[l]) * total[l];
      float cumulative = 0.0f;
      int chosen = -1;
      for (int o = 0; o < used; ++o) {
        if (weight[o][l] <= 0.0f) continue;
        cumulative += weight[o][l];
        chosen = ch.options[o];
        if (target < cumulative) break;
      }
      pick[l] = static_cast<std::int16_t>(chosen);
    }
  }

  void apply(int k, const Lanes<int>& fire, bool& interests_moved, bool& capabilities_moved) {
    const auto& e = m_.compiled_events()[k];
    const auto& scale = s_.theta[theta::kShockScale];
    alignas(64) float z[4][L];
    for (std::size_t q = 0; q < e.shocks.size(); ++q) {
      if (q % 4 == 0) {
        detail::normals4<L>(s_.key.v, seed_lo_, static_cast<std::uint32_t>(q / 4), kTagShock, e.stream, seed_hi_, z[0],
                            z[1], z[2], z[3]);
      }
      const auto& shock = e.shocks[q];
      const float* zq = z[q % 4];
      alignas(64) float size[L];
      for (int l = 0; l < L; ++l) {
        const float mean = shock.scaled ? shock.base * scale[l] : shock.base;
        size[l] = fire[l] ? mean + shock.sd * zq[l] : 0.0f;
      }
      for (int l = 0; l < L; ++l) s_.shock[shock.ij][l] += size[l];
      if (shock.ji >= 0) {
        for (int l = 0; l < L; ++l) s_.shock[shock.ji][l] += size[l];
      }
    }
    for (const auto& h : e.shifts) {
      auto& pos = s_.position[h.cell];
      auto& anchor = s_.anchor[h.cell];
      auto& sal = s_.salience[h.cell];
      for (int l = 0; l < L; ++l) {
        if (!fire[l]) continue;
        if (h.set_position) pos[l] = anchor[l] = h.position;
        if (h.add_position) {
          pos[l] = std::clamp(pos[l] + h.position, -1.0f, 1.0f);
          if (h.durable) anchor[l] = std::clamp(anchor[l] + h.position, -1.0f, 1.0f);
        }
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

  /// Positions move toward consistency with alignment and back toward their anchors:
  ///   p[i,d] += k_p sum_j w[i,j] (|p[j,d] - p[i,d]| - (1 - W[i,j])) sgn(p[j,d] - p[i,d])
  ///             + k_0 (anchor[i,d] - p[i,d]),        w[i,j] = c_j |W[i,j]| / sum_{k != i} c_k,
  /// from the state at the start of the month, clamped to [-1, 1]; then the affinity follows.
  void interests() {
    const auto& kp = s_.theta[theta::kKP];
    const auto& k0 = s_.theta[theta::kK0];
    LaneF* weight = s_.scratch.data();     // [j]: k_p w[i,j] of the agent i at hand
    LaneF* target = weight + n_;           // [j]: 1 - W[i,j]
    for (int i = 0; i < n_; ++i) {
      const auto& inv = s_.inv_others[i];
      for (int j = 0; j < n_; ++j) {
        if (i == j) continue;
        const auto& w = s_.W[i * n_ + j];
        const auto& cj = s_.capability[j];
#pragma omp simd
        for (int l = 0; l < L; ++l) {
          weight[j][l] = kp[l] * cj[l] * std::fabs(w[l]) * inv[l];
          target[j][l] = 1.0f - w[l];
        }
      }
      // Each issue's drift is summed over j in registers, in the same order as the formula's sum.
      for (int d = 0; d < d_; ++d) {
        const float* __restrict pi = s_.position[i * d_ + d].v;
        const float* __restrict a = s_.anchor[i * d_ + d].v;
        LaneF drift;
#pragma omp simd
        for (int l = 0; l < L; ++l) drift[l] = k0[l] * (a[l] - pi[l]);
        for (int j = 0; j < n_; ++j) {
          if (i == j) continue;
          const float* __restrict pj = s_.position[j * d_ + d].v;
          const float* __restrict wj = weight[j].v;
          const float* __restrict tj = target[j].v;
#pragma omp simd
          for (int l = 0; l < L; ++l) {
            const float x = pj[l] - pi[l];
            const float sign = (x > 0.0f ? 1.0f : 0.0f) - (x < 0.0f ? 1.0f : 0.0f);
            drift[l] += wj[l] * (std::fabs(x) - tj[l]) * sign;
          }
        }
        s_.drift[i * d_ + d] = drift;
      }
    }
    for (int c = 0; c < n_ * d_; ++c) {
      auto& p = s_.position[c];
      const auto& drift = s_.drift[c];
#pragma omp simd
      for (int l = 0; l < L; ++l) p[l] = std::clamp(p[l] + drift[l], -1.0f, 1.0f);
    }
    affinity();
  }

  /// A[i,j] = 1 - sum_d s[i,d] |p[i,d] - p[j,d]|, with each agent's saliences normalised.
  void affinity() {
    LaneF* total = s_.scratch.data();  // [i]: the sum of agent i's saliences
    LaneF* inv_total = total + n_;     // [i]: its inverse, 0 when the sum is 0
    for (int i = 0; i < n_; ++i) {
      LaneF sum{};
      for (int d = 0; d < d_; ++d) {
        const auto& sal = s_.salience[i * d_ + d];
#pragma omp simd
        for (int l = 0; l < L; ++l) sum[l] += sal[l];
      }
#pragma omp simd
      for (int l = 0; l < L; ++l) inv_total[i][l] = sum[l] > 0.0f ? 1.0f / sum[l] : 0.0f;
      total[i] = sum;
    }
    // |p[i,d] - p[j,d]| once per pair, for both A[i,j] and A[j,i].
    for (int i = 0; i < n_; ++i) {
      for (int j = i + 1; j < n_; ++j) {
        LaneF to_j{}, to_i{};
        for (int d = 0; d < d_; ++d) {
          const float* __restrict si = s_.salience[i * d_ + d].v;
          const float* __restrict sj = s_.salience[j * d_ + d].v;
          const float* __restrict pi = s_.position[i * d_ + d].v;
          const float* __restrict pj = s_.position[j * d_ + d].v;
#pragma omp simd
          for (int l = 0; l < L; ++l) {
            const float gap = std::fabs(pi[l] - pj[l]);
            to_j[l] += si[l] * gap;
            to_i[l] += sj[l] * gap;
          }
        }
        auto& aij = s_.A[i * n_ + j];
        auto& aji = s_.A[j * n_ + i];
#pragma omp simd
        for (int l = 0; l < L; ++l) {
          aij[l] = total[i][l] > 0.0f ? 1.0f - to_j[l] * inv_total[i][l] : 0.0f;
          aji[l] = total[j][l] > 0.0f ? 1.0f - to_i[l] * inv_total[j][l] : 0.0f;
        }
      }
    }
  }

  /// 1 / the capabilities of the third parties of each pair (0 when there are none), and
  /// 1 / the capabilities of everyone but i.
  void third_parties() {
    alignas(64) float total[L] = {};
    for (int k = 0; k < n_; ++k) {
#pragma omp simd
      for (int l = 0; l < L; ++l) total[l] += s_.capability[k][l];
    }
    for (int i = 0; i < n_; ++i) {
      const auto& ci = s_.capability[i];
      auto& others = s_.inv_others[i];
#pragma omp simd
      for (int l = 0; l < L; ++l) others[l] = 1.0f / (total[l] - ci[l]);
      for (int j = 0; j < n_; ++j) {
        if (i == j) continue;
        auto& inv = s_.inv_third[i * n_ + j];
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
    detail::normals_blocks<L>(s_.key.v, seed_lo_, 0, (pairs + 3) / 4, static_cast<std::uint32_t>(t), kNoiseStream,
                              seed_hi_, noise[0].v);
    const auto& W = s_.W;
    const float* __restrict ka = s_.theta[theta::kKA].v;
    const float* __restrict kr = s_.theta[theta::kKR].v;
    const float* __restrict kb = s_.theta[theta::kKB].v;
    const float* __restrict sigma = s_.theta[theta::kSigma].v;
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
#pragma omp simd
        for (int l = 0; l < L; ++l) {
          const float x = w[l] + ka[l] * (a[l] - w[l]) + kr[l] * (wr[l] - w[l]) + kb[l] * balance[l] * inv[l] +
                          sigma[l] * z[l] + shock[l];
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
  bool dynamics_ = false;  ///< some lane has k_p or k_0 above 0: positions move every month
};

}  // namespace

void simulate_batch(const Model& model, std::uint64_t seed, std::uint64_t first_run, int valid, BatchState& state,
                    BatchObserver& observer, const ParameterPlan* plan) {
  state.first_run = first_run;
  state.valid = valid;
  for (int l = 0; l < L; ++l) state.key[l] = static_cast<std::uint32_t>(first_run + static_cast<std::uint64_t>(l));
  const auto& theta = model.theta();
  std::vector<double> run_theta(theta.size());
  for (int l = 0; l < L; ++l) {
    // Padding lanes (l >= valid) repeat the last valid run's parameters: they are simulated but not kept.
    if (plan) plan->parameters(first_run + static_cast<std::uint64_t>(std::min(l, std::max(valid - 1, 0))), run_theta.data());
    const auto& values = plan ? run_theta : theta;
    for (std::size_t p = 0; p < theta.size(); ++p) state.theta[p][l] = static_cast<float>(values[p]);
  }
  Kernel kernel(model, seed, state);
  kernel.start();
  for (int t = 0; t < model.months(); ++t) {
    kernel.month(t);
    observer.on_month(t, state);
  }
}

}  // namespace alignsim
