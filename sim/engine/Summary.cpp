// Everything accumulated is an integer, so the result is exact and does not depend on the order in
// which runs arrive. Built without -ffast-math, so every value is rounded the same way in vector
// and scalar code.
#include "Summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace alignsim {

namespace {
constexpr float kScale = 16777216.0f;  // 2^24
}

SummaryAccumulator::SummaryAccumulator(int agents, int months, int bins)
    : agents_(agents), months_(months), dyads_(agents * (agents - 1) / 2), bins_(bins) {
  const auto cells = static_cast<std::size_t>(months_) * static_cast<std::size_t>(dyads_);
  sum_.assign(cells, 0);
  sum_squares_.assign(cells, 0);
  hist_.assign(cells * static_cast<std::size_t>(bins_), 0);
  for (int i = 0; i < agents_; ++i) {
    for (int j = i + 1; j < agents_; ++j) {
      pair_ij_.push_back(i * agents_ + j);
      pair_ji_.push_back(j * agents_ + i);
    }
  }
}

DyadBuffer::DyadBuffer(int agents, int months, int capacity, std::vector<std::pair<int, int>> eras)
    : agents_(agents), months_(months), dyads_(agents * (agents - 1) / 2),
      capacity_((capacity + kLanes - 1) / kLanes * kLanes), eras_(std::move(eras)),
      eras_at_(static_cast<std::size_t>(months)) {
  for (int i = 0; i < agents_; ++i) {
    for (int j = i + 1; j < agents_; ++j) pairs_.emplace_back(i * agents_ + j, j * agents_ + i);
  }
  m_.assign(static_cast<std::size_t>(months_) * dyads_ * capacity_, 0.0f);
  for (std::size_t e = 0; e < eras_.size(); ++e) {
    if (eras_[e].first < 0 || eras_[e].second >= months_ || eras_[e].first > eras_[e].second) {
      throw std::invalid_argument("an era outside the months of the buffer");
    }
    for (int t = eras_[e].first; t <= eras_[e].second; ++t) eras_at_[t].push_back(static_cast<int>(e));
  }
  era_sum_.assign(eras_.size() * dyads_ * capacity_, 0.0);
}

void DyadBuffer::record(int t, const BatchState& state, int offset) {
  for (int p = 0; p < dyads_; ++p) {
    const float* __restrict ij = state.W[pairs_[p].first].v;
    const float* __restrict ji = state.W[pairs_[p].second].v;
    alignas(64) float m[kLanes];  // (local arrays and restricted pointers let GCC vectorise the loops)
    for (int l = 0; l < kLanes; ++l) m[l] = 0.5f * (ij[l] + ji[l]);
    float* __restrict out = &m_[(static_cast<std::size_t>(t) * dyads_ + p) * capacity_ + offset];
    for (int l = 0; l < kLanes; ++l) out[l] = m[l];
    for (const int e : eras_at_[t]) {
      double* __restrict sum = &era_sum_[(static_cast<std::size_t>(e) * dyads_ + p) * capacity_ + offset];
      // An era's first month starts its sums afresh (at 0, as a fresh sum would), and the sums add
      // up in month order.
      if (t == eras_[e].first) {
        for (int l = 0; l < kLanes; ++l) sum[l] = 0.0 + m[l];
      } else {
        for (int l = 0; l < kLanes; ++l) sum[l] += m[l];
      }
    }
  }
}

void DyadBuffer::era_means(int count, float* out) const {
  const int nn = agents_ * agents_;
  const std::size_t per_run = eras_.size() * static_cast<std::size_t>(nn);
  for (std::size_t e = 0; e < eras_.size(); ++e) {
    const auto [from, to] = eras_[e];
    const double months = to - from + 1;
    for (int p = 0; p < dyads_; ++p) {
      const double* sum = &era_sum_[(e * dyads_ + p) * capacity_];
      for (int k = 0; k < count; ++k) {
        float* m = out + static_cast<std::size_t>(k) * per_run + e * static_cast<std::size_t>(nn);
        m[pairs_[p].first] = m[pairs_[p].second] = static_cast<float>(sum[k] / months);
      }
    }
    for (int k = 0; k < count; ++k) {
      float* m = out + static_cast<std::size_t>(k) * per_run + e * static_cast<std::size_t>(nn);
      for (int i = 0; i < agents_; ++i) m[i * agents_ + i] = std::numeric_limits<float>::quiet_NaN();
    }
  }
}

void SummaryAccumulator::add(const DyadBuffer& buffer, int count) {
  const float half_bins = 0.5f * static_cast<float>(bins_);
  // Rows [t][dyad] lie one after another in the buffer and in the histograms. The histograms do not
  // fit in cache and a row's increments land on scattered lines, so each row's bins are found
  // kAhead rows early and the lines from its lowest bin to its highest fetched, while the rows
  // before it are counted.
  constexpr int kAhead = 2;
  const auto n = static_cast<std::size_t>(count);
  q_.resize(n);
  bin_.resize(n * (kAhead + 1));
  const int rows = months_ * dyads_;
  const std::int32_t bins = bins_;  // (a local: the stores to bin[] below may not change it)
  const auto find_bins = [&](int r) {
    const float* __restrict m = buffer.row(r / dyads_, r % dyads_);
    std::int32_t* __restrict bin = &bin_[n * static_cast<std::size_t>(r % (kAhead + 1))];
    std::int32_t lo = bins, hi = 0;
    for (int k = 0; k < count; ++k) {
      const std::int32_t b = std::min(bins - 1, std::max(0, static_cast<std::int32_t>((m[k] + 1.0f) * half_bins)));
      bin[k] = b;
      lo = std::min(lo, b);
      hi = std::max(hi, b);
    }
    const std::uint32_t* h = hist_.data() + static_cast<std::size_t>(r) * bins;
    for (std::int32_t b = lo; b <= hi; b += 16) __builtin_prefetch(h + b, 0);
    __builtin_prefetch(h + hi, 0);
  };
  for (int r = 0; r < std::min(kAhead, rows) && count > 0; ++r) find_bins(r);
  for (int r = 0; r < rows && count > 0; ++r) {
    if (r + kAhead < rows) find_bins(r + kAhead);
    const float* __restrict m = buffer.row(r / dyads_, r % dyads_);
    std::int32_t* __restrict q = q_.data();
    std::int64_t s = 0;
    std::int64_t s2 = 0;  // count * 2^48 stays far below 2^63 for blocks of up to 2^14 runs
    for (int k = 0; k < count; ++k) {
      q[k] = static_cast<std::int32_t>(m[k] * kScale);
      s += q[k];
    }
    for (int k = 0; k < count; ++k) s2 += std::int64_t{q[k]} * q[k];
    const auto cell = static_cast<std::size_t>(r);
    std::uint32_t* h = &hist_[cell * bins];
    const std::int32_t* bin = &bin_[n * (cell % (kAhead + 1))];
    for (int k = 0; k < count; ++k) ++h[bin[k]];
    sum_[cell] += s;
    sum_squares_[cell] += static_cast<u128>(s2);
  }
  runs_ += static_cast<std::uint64_t>(count);
}

void SummaryAccumulator::merge(const SummaryAccumulator& o) {
  runs_ += o.runs_;
  for (std::size_t c = 0; c < sum_.size(); ++c) {
    sum_[c] += o.sum_[c];
    sum_squares_[c] += o.sum_squares_[c];
  }
  for (std::size_t c = 0; c < hist_.size(); ++c) hist_[c] += o.hist_[c];
}

namespace {
constexpr std::size_t kHeaderWords = 4;  // agents, months, bins, runs
}

std::vector<std::uint64_t> SummaryAccumulator::to_words() const {
  std::vector<std::uint64_t> w{static_cast<std::uint64_t>(agents_), static_cast<std::uint64_t>(months_),
                               static_cast<std::uint64_t>(bins_), runs_};
  w.reserve(kHeaderWords + 5 * sum_.size());
  for (const auto s : sum_) w.push_back(static_cast<std::uint64_t>(s));  // two's complement
  for (const auto s : sum_squares_) {
    w.push_back(static_cast<std::uint64_t>(s));
    w.push_back(static_cast<std::uint64_t>(s >> 64));
  }
  for (std::size_t cell = 0; cell < sum_.size(); ++cell) {
    const std::uint32_t* h = &hist_[cell * static_cast<std::size_t>(bins_)];
    int lo = 0, hi = bins_ - 1;
    while (lo < bins_ && h[lo] == 0) ++lo;
    while (hi > lo && h[hi] == 0) --hi;
    const int n = lo < bins_ ? hi - lo + 1 : 0;
    w.push_back(static_cast<std::uint64_t>(lo));
    w.push_back(static_cast<std::uint64_t>(n));
    for (int k = 0; k < n; k += 2) {
      w.push_back(std::uint64_t{h[lo + k]} | (k + 1 < n ? std::uint64_t{h[lo + k + 1]} << 32 : 0));
    }
  }
  return w;
}

void SummaryAccumulator::merge_words(const std::uint64_t* w, std::size_t count) {
  // Checked whole before anything is added, so that bad words leave the accumulator as it was.
  const std::size_t cells = sum_.size();
  bool valid = count >= kHeaderWords + 5 * cells && w[0] == static_cast<std::uint64_t>(agents_) &&
               w[1] == static_cast<std::uint64_t>(months_) && w[2] == static_cast<std::uint64_t>(bins_);
  const std::uint64_t* rows = w + kHeaderWords + 3 * cells;
  const std::uint64_t* end = w + count;
  for (std::size_t cell = 0; valid && cell < cells; ++cell) {
    valid = end - rows >= 2 && rows[0] + rows[1] <= static_cast<std::uint64_t>(bins_) &&
            static_cast<std::uint64_t>(end - rows - 2) >= (rows[1] + 1) / 2;
    if (valid) rows += 2 + (rows[1] + 1) / 2;
  }
  if (!valid || rows != end) throw std::invalid_argument("the words do not hold a summary accumulator of this shape");

  runs_ += w[3];
  const std::uint64_t* in = w + kHeaderWords;
  for (auto& s : sum_) s += static_cast<std::int64_t>(*in++);
  for (auto& s : sum_squares_) {
    s += static_cast<u128>(in[0]) | static_cast<u128>(in[1]) << 64;
    in += 2;
  }
  for (std::size_t cell = 0; cell < cells; ++cell) {
    const std::uint64_t lo = in[0], n = in[1];
    in += 2;
    std::uint32_t* h = &hist_[cell * static_cast<std::size_t>(bins_) + lo];
    for (std::uint64_t k = 0; k < n; ++k) h[k] += static_cast<std::uint32_t>(in[k / 2] >> (32 * (k % 2)));
    in += (n + 1) / 2;
  }
}

SummaryAccumulator::State SummaryAccumulator::state() const {
  State out;
  out.runs = runs_;
  out.sum = sum_;
  out.sum_squares.reserve(2 * sum_squares_.size());
  for (const u128 v : sum_squares_) {
    out.sum_squares.push_back(static_cast<std::uint64_t>(v));
    out.sum_squares.push_back(static_cast<std::uint64_t>(v >> 64));
  }
  out.histogram = hist_;
  return out;
}

void SummaryAccumulator::restore(const State& s) {
  if (s.sum.size() != sum_.size() || s.sum_squares.size() != 2 * sum_squares_.size() || s.histogram.size() != hist_.size()) {
    throw std::invalid_argument("a saved summary state of another shape (agents, months or histogram bins)");
  }
  runs_ = s.runs;
  sum_ = s.sum;
  for (std::size_t c = 0; c < sum_squares_.size(); ++c) {
    sum_squares_[c] = (static_cast<u128>(s.sum_squares[2 * c + 1]) << 64) | s.sum_squares[2 * c];
  }
  hist_ = s.histogram;
}

Summary SummaryAccumulator::finish(const std::vector<double>& quantiles) const {
  __extension__ typedef __int128 i128;
  Summary out;
  out.months = months_;
  out.agents = agents_;
  out.runs = runs_;
  out.bins = bins_;
  out.quantiles = quantiles;
  const std::size_t nn = static_cast<std::size_t>(agents_) * agents_;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  out.mean.assign(nn * months_, nan);
  out.std.assign(nn * months_, nan);
  out.quantile.assign(quantiles.size() * nn * months_, nan);
  if (runs_ == 0) return out;
  const auto n = static_cast<i128>(runs_);
  const double width = 2.0 / bins_;
  for (int t = 0; t < months_; ++t) {
    for (int p = 0; p < dyads_; ++p) {
      const std::size_t cell = static_cast<std::size_t>(t) * dyads_ + p;
      const std::size_t at_ij = static_cast<std::size_t>(t) * nn + pair_ij_[p];
      const std::size_t at_ji = static_cast<std::size_t>(t) * nn + pair_ji_[p];
      const double mean = static_cast<double>(sum_[cell]) / static_cast<double>(runs_) / kScale;
      // n * sum(q^2) - sum(q)^2 is exact in 128 bits; the variance follows with ddof = 1.
      const i128 numerator = n * static_cast<i128>(sum_squares_[cell]) - static_cast<i128>(sum_[cell]) * sum_[cell];
      const double var = runs_ > 1 ? static_cast<double>(numerator) / (static_cast<double>(runs_) * static_cast<double>(runs_ - 1)) /
                                         (double{kScale} * kScale)
                                   : 0.0;
      out.mean[at_ij] = out.mean[at_ji] = static_cast<float>(mean);
      out.std[at_ij] = out.std[at_ji] = static_cast<float>(std::sqrt(std::max(0.0, var)));
      const std::uint32_t* h = &hist_[cell * bins_];
      for (std::size_t k = 0; k < quantiles.size(); ++k) {
        // Linear interpolation inside the bin where the cumulative count reaches q * n.
        const double target = quantiles[k] * static_cast<double>(runs_);
        double cumulative = 0;
        double value = 1.0;
        for (int b = 0; b < bins_; ++b) {
          if (h[b] > 0 && cumulative + h[b] >= target) {
            value = -1.0 + (b + std::clamp((target - cumulative) / h[b], 0.0, 1.0)) * width;
            break;
          }
          cumulative += h[b];
        }
        const std::size_t base = k * nn * months_;
        out.quantile[base + at_ij] = out.quantile[base + at_ji] = static_cast<float>(value);
      }
    }
  }
  return out;
}

}  // namespace alignsim
