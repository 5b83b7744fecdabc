#include "Abc.hpp"

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "model/Philox.hpp"

namespace alignsim {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// The calibration's own random numbers: Philox4x32-10 keyed by (proposal, low half of the seed),
/// with the counter (slot, tag, kAbcStream, high half of the seed); the tag says which generation,
/// step and purpose (tag()).
constexpr std::uint32_t kAbcStream = 0x41424321u;
enum Purpose : std::uint32_t { kPriorDraw = 0, kParent = 1, kKernel = 2, kSeed = 3, kAccept = 4 };

std::uint32_t tag(int generation, int step, Purpose purpose) {
  return (static_cast<std::uint32_t>(generation) * 4096u + static_cast<std::uint32_t>(step)) * 8u + purpose;
}

struct Words {
  std::uint32_t w[4];
};

Words words(std::uint64_t seed, std::uint64_t index, std::uint32_t counter_tag, std::uint32_t slot) {
  Words out{};
  const auto key = static_cast<std::uint32_t>(index);
  detail::philox4x32_10<1>(&key, static_cast<std::uint32_t>(seed), slot, counter_tag, kAbcStream,
                           static_cast<std::uint32_t>(seed >> 32), &out.w[0], &out.w[1], &out.w[2], &out.w[3]);
  return out;
}

/// A uniform double in [0, 1) from 53 bits of two words.
double uniform53(std::uint32_t a, std::uint32_t b) {
  return (static_cast<double>(a >> 5) * 67108864.0 + static_cast<double>(b >> 6)) * 0x1p-53;
}

double uniform(const Words& x) { return uniform53(x.w[0], x.w[1]); }

/// A standard normal by Box-Muller from the four words.
double normal(const Words& x) {
  const double u1 = 1.0 - uniform53(x.w[0], x.w[1]);  // in (0, 1]
  const double u2 = uniform53(x.w[2], x.w[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

/// A draw from the prior on the internal scale: uniform, or a normal truncated to the support by
/// rejection (each attempt its own slot).
double prior_draw(const Prior& p, std::uint64_t seed, std::uint64_t index, std::size_t dim) {
  const auto slot = [&](int attempt) { return static_cast<std::uint32_t>(dim << 8 | static_cast<std::size_t>(attempt)); };
  if (p.shape == Prior::Shape::Uniform) return p.a + (p.b - p.a) * uniform(words(seed, index, tag(0, 0, kPriorDraw), slot(0)));
  const double centre = p.shape == Prior::Shape::LogNormal ? std::log(p.a) : p.a;
  double z = centre;
  for (int attempt = 0; attempt < 256; ++attempt) {
    z = centre + p.b * normal(words(seed, index, tag(0, 0, kPriorDraw), slot(attempt)));
    if (p.in_support(p.from_internal(z))) return z;
  }
  return p.to_internal(std::clamp(p.from_internal(z), p.variable.lo, p.variable.hi));
}

double log_prior(const std::vector<Prior>& priors, const std::vector<double>& z) {
  double sum = 0;
  for (std::size_t k = 0; k < priors.size(); ++k) sum += priors[k].log_density(z[k]);
  return sum;
}

/// Lower-triangular Cholesky factor of a symmetric positive definite matrix (row-major, d x d); a
/// small ridge is added until it succeeds (a population can be nearly flat in some direction).
std::vector<double> cholesky(std::vector<double> a, std::size_t d) {
  double trace = 0;
  for (std::size_t i = 0; i < d; ++i) trace += a[i * d + i];
  double ridge = 0;
  for (int attempt = 0; attempt < 30; ++attempt) {
    std::vector<double> l(d * d, 0.0);
    bool ok = true;
    for (std::size_t j = 0; j < d && ok; ++j) {
      double s = a[j * d + j] + ridge;
      for (std::size_t k = 0; k < j; ++k) s -= l[j * d + k] * l[j * d + k];
      if (!(s > 0)) {
        ok = false;
        break;
      }
      l[j * d + j] = std::sqrt(s);
      for (std::size_t i = j + 1; i < d; ++i) {
        double t = a[i * d + j];
        for (std::size_t k = 0; k < j; ++k) t -= l[i * d + k] * l[j * d + k];
        l[i * d + j] = t / l[j * d + j];
      }
    }
    if (ok) return l;
    ridge = ridge == 0 ? 1e-12 * std::max(trace / static_cast<double>(d), 1e-300) : ridge * 10;
  }
  throw std::runtime_error("the population's covariance is not positive definite");
}

/// ||L^-1 x||^2 by forward substitution.
double mahalanobis2(const std::vector<double>& l, std::size_t d, const double* x, std::vector<double>& y) {
  double sum = 0;
  for (std::size_t i = 0; i < d; ++i) {
    double t = x[i];
    for (std::size_t k = 0; k < i; ++k) t -= l[i * d + k] * y[k];
    y[i] = t / l[i * d + i];
    sum += y[i] * y[i];
  }
  return sum;
}

struct Population {
  std::vector<std::vector<double>> z;  ///< internal scale
  std::vector<double> weights, losses;
  std::vector<Evaluation> evaluations;
};

/// The moves shared by both methods: prior draws, perturbations, simulations, the kernel's scale.
class Smc {
 public:
  Smc(const Scenario& s, const TargetSet& t, const std::vector<Prior>& p, const AbcOptions& o)
      : scenario_(s), targets_(t), priors_(p), o_(o), d_(p.size()), k_(static_cast<std::size_t>(o.particles)) {}

  /// Generation 0: K draws from the prior, all kept.
  void from_prior(AbcGeneration& gen) {
    std::vector<std::vector<double>> zs(k_, std::vector<double>(d_));
    std::vector<std::uint64_t> seeds;
    for (std::size_t i = 0; i < k_; ++i) {
      for (std::size_t k = 0; k < d_; ++k) zs[i][k] = prior_draw(priors_[k], o_.seed, i, k);
      seeds.push_back(proposal_seed(o_.seed, 0, i));
    }
    const auto e = simulate(zs, seeds);
    current.z = zs;
    current.evaluations = e;
    current.losses.clear();
    for (const auto& x : e) current.losses.push_back(x.loss);
    current.weights.assign(k_, 1.0 / static_cast<double>(k_));
    gen.tolerance = kInf;
    gen.proposals = gen.simulated = k_;
    gen.acceptance = 1.0;
  }

  /// Beaumont et al. (2009): proposals from the population perturbed by N(0, 2 cov), until K are
  /// within the tolerance; weights prior / kernel mixture. False when abandoned or interrupted.
  bool pmc(int g, double tolerance, AbcGeneration& gen, bool& interrupted) {
    const auto chol = cholesky(covariance(current, all(), 2.0, 0.0), d_);
    std::vector<double> cumulative(k_);
    std::partial_sum(current.weights.begin(), current.weights.end(), cumulative.begin());
    Population next;
    const auto cap = static_cast<std::uint64_t>(std::ceil(static_cast<double>(k_) / o_.min_acceptance));
    std::uint64_t index = 0;
    while (next.z.size() < k_) {
      if (stopped()) {
        interrupted = true;
        return false;
      }
      if (index >= cap) return false;
      const std::uint64_t count = std::min<std::uint64_t>(static_cast<std::uint64_t>(o_.batch), cap - index);
      std::vector<std::vector<double>> zs, inside_z;
      std::vector<std::uint64_t> seeds;
      std::vector<char> inside(count, 0);
      for (std::uint64_t b = 0; b < count; ++b) {
        const std::uint64_t i = index + b;
        const double u = uniform(words(o_.seed, i, tag(g, 0, kParent), 0)) * cumulative.back();
        const auto parent = static_cast<std::size_t>(std::min<std::ptrdiff_t>(
            std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin(), static_cast<std::ptrdiff_t>(k_ - 1)));
        zs.push_back(perturb(current.z[parent], chol, g, 0, i));
        if (!std::isfinite(log_prior(priors_, zs.back()))) continue;
        inside[b] = 1;
        inside_z.push_back(zs.back());
        seeds.push_back(proposal_seed(o_.seed, g, i));
      }
      const auto evaluations = simulate(inside_z, seeds);
      gen.simulated += evaluations.size();
      std::size_t next_eval = 0;
      for (std::uint64_t b = 0; b < count && next.z.size() < k_; ++b) {  // accepted in index order
        ++gen.proposals;
        if (!inside[b]) {
          ++gen.outside_prior;
          continue;
        }
        const Evaluation& e = evaluations[next_eval++];
        if (!(e.loss <= tolerance)) continue;
        next.z.push_back(zs[b]);
        next.losses.push_back(e.loss);
        next.evaluations.push_back(e);
      }
      index += count;
    }
    // Importance weights: prior / the kernel mixture over the previous population.
    std::vector<double> logw(k_), y(d_), diff(d_), terms(k_);
    for (std::size_t i = 0; i < k_; ++i) {
      for (std::size_t j = 0; j < k_; ++j) {
        for (std::size_t k = 0; k < d_; ++k) diff[k] = next.z[i][k] - current.z[j][k];
        terms[j] = std::log(current.weights[j]) - 0.5 * mahalanobis2(chol, d_, diff.data(), y);
      }
      const double top = *std::max_element(terms.begin(), terms.end());
      double sum = 0;
      for (const double t : terms) sum += std::exp(t - top);
      logw[i] = log_prior(priors_, next.z[i]) - (top + std::log(sum));
    }
    const double top = *std::max_element(logw.begin(), logw.end());
    double total = 0;
    next.weights.resize(k_);
    for (std::size_t i = 0; i < k_; ++i) total += next.weights[i] = std::exp(logw[i] - top);
    for (auto& w : next.weights) w /= total;
    current = std::move(next);
    gen.acceptance = static_cast<double>(k_) / static_cast<double>(gen.proposals);
    return true;
  }

  /// Drovandi and Pettitt (2011): keep the `keep` best particles (their worst loss is the
  /// tolerance), replace the others by copies of kept ones, and move each copy by Metropolis-Hastings
  /// steps within the tolerance. Returns the acceptance of the first step; false when interrupted.
  bool mcmc(int g, std::size_t keep, AbcGeneration& gen, double& first_acceptance, bool& interrupted) {
    std::vector<std::size_t> order(k_);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return current.losses[a] < current.losses[b]; });
    const std::vector<std::size_t> kept(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep));
    const double tolerance = current.losses[kept.back()];
    gen.tolerance = tolerance;
    // The random walk: the kept particles' covariance, shrunk toward its diagonal (positive definite
    // even with fewer kept particles than free numbers), scaled by 2.38^2 / d (Roberts, Gelman and
    // Gilks 1997) and at most 2 (Beaumont et al.'s factor, for few free numbers).
    const double scale = std::min(2.0, 2.38 * 2.38 / static_cast<double>(d_));
    const auto chol = cholesky(covariance(current, kept, scale, kShrink), d_);
    Population next;
    for (const std::size_t i : kept) {
      next.z.push_back(current.z[i]);
      next.losses.push_back(current.losses[i]);
      next.evaluations.push_back(current.evaluations[i]);
    }
    const std::size_t copies = k_ - keep;
    gen.replaced = static_cast<int>(copies);
    for (std::size_t c = 0; c < copies; ++c) {
      const auto parent = kept[static_cast<std::size_t>(uniform(words(o_.seed, c, tag(g, 0, kParent), 0)) * static_cast<double>(keep))];
      next.z.push_back(current.z[parent]);
      next.losses.push_back(current.losses[parent]);
      next.evaluations.push_back(current.evaluations[parent]);
    }
    std::uint64_t accepted = 0;
    int steps = 1;
    for (int step = 1; step <= steps; ++step) {
      if (stopped()) {
        interrupted = true;
        return false;
      }
      // Each copy proposes; the prior ratio is checked before simulating.
      std::vector<std::vector<double>> proposed(copies), simulated;
      std::vector<std::uint64_t> seeds;
      std::vector<std::size_t> which;
      for (std::size_t c = 0; c < copies; ++c) {
        const std::size_t at = keep + c;
        proposed[c] = perturb(next.z[at], chol, g, step, c);
        ++gen.proposals;
        const double ratio = log_prior(priors_, proposed[c]) - log_prior(priors_, next.z[at]);
        if (!std::isfinite(ratio)) {
          ++gen.outside_prior;
          continue;
        }
        if (std::log(1.0 - uniform(words(o_.seed, c, tag(g, step, kAccept), 0))) >= ratio) continue;
        simulated.push_back(proposed[c]);
        seeds.push_back(proposal_seed(o_.seed, g, c, 0, step));
        which.push_back(c);
      }
      const auto evaluations = simulate(simulated, seeds);
      gen.simulated += evaluations.size();
      std::uint64_t moved = 0;
      for (std::size_t q = 0; q < which.size(); ++q) {
        if (!(evaluations[q].loss <= tolerance)) continue;
        const std::size_t at = keep + which[q];
        next.z[at] = simulated[q];
        next.losses[at] = evaluations[q].loss;
        next.evaluations[at] = evaluations[q];
        ++moved;
      }
      accepted += moved;
      if (step == 1) {
        // Enough steps that a copy has most likely moved at least once.
        first_acceptance = copies ? static_cast<double>(moved) / static_cast<double>(copies) : 1.0;
        steps = first_acceptance <= 0 ? o_.max_steps
                                      : first_acceptance >= 1
                                            ? 1
                                            : static_cast<int>(std::ceil(std::log(o_.move_failure) / std::log(1.0 - first_acceptance)));
        steps = std::clamp(steps, 1, o_.max_steps);
      }
    }
    gen.steps = steps;
    gen.acceptance = gen.proposals ? static_cast<double>(accepted) / static_cast<double>(gen.proposals) : 0.0;
    next.weights.assign(k_, 1.0 / static_cast<double>(k_));
    current = std::move(next);
    return true;
  }

  Population current;

 private:
  static constexpr double kShrink = 0.2;  ///< share of the diagonal in the random walk's covariance

  std::vector<std::size_t> all() const {
    std::vector<std::size_t> v(k_);
    std::iota(v.begin(), v.end(), std::size_t{0});
    return v;
  }

  /// scale * the weighted covariance of the particles `which` (weights renormalised over them), shrunk
  /// toward its diagonal by `shrink`.
  std::vector<double> covariance(const Population& p, const std::vector<std::size_t>& which, double scale, double shrink) const {
    double total = 0;
    for (const std::size_t i : which) total += p.weights[i];
    std::vector<double> mean(d_, 0.0), cov(d_ * d_, 0.0);
    for (const std::size_t i : which) {
      for (std::size_t k = 0; k < d_; ++k) mean[k] += p.weights[i] / total * p.z[i][k];
    }
    for (const std::size_t i : which) {
      const double w = p.weights[i] / total;
      for (std::size_t a = 0; a < d_; ++a) {
        const double da = p.z[i][a] - mean[a];
        for (std::size_t b = 0; b <= a; ++b) cov[a * d_ + b] += w * da * (p.z[i][b] - mean[b]);
      }
    }
    for (std::size_t a = 0; a < d_; ++a) {
      for (std::size_t b = 0; b <= a; ++b) {
        const double x = scale * (a == b ? cov[a * d_ + b] : (1.0 - shrink) * cov[a * d_ + b]);
        cov[a * d_ + b] = cov[b * d_ + a] = x;
      }
    }
    return cov;
  }

  /// z + L e, e standard normal, addressed by (generation, step, index).
  std::vector<double> perturb(const std::vector<double>& z, const std::vector<double>& chol, int g, int step,
                              std::uint64_t index) const {
    std::vector<double> e(d_), out(d_);
    for (std::size_t k = 0; k < d_; ++k) e[k] = normal(words(o_.seed, index, tag(g, step, kKernel), static_cast<std::uint32_t>(k)));
    for (std::size_t a = 0; a < d_; ++a) {
      double step_a = 0;
      for (std::size_t b = 0; b <= a; ++b) step_a += chol[a * d_ + b] * e[b];
      out[a] = z[a] + step_a;
    }
    return out;
  }

  std::vector<Evaluation> simulate(const std::vector<std::vector<double>>& zs, const std::vector<std::uint64_t>& seeds) const {
    std::vector<std::vector<double>> xs;
    for (const auto& z : zs) {
      std::vector<double> x(d_);
      for (std::size_t k = 0; k < d_; ++k) x[k] = priors_[k].from_internal(z[k]);
      xs.push_back(std::move(x));
    }
    return evaluate_sets(scenario_, targets_, priors_, xs, seeds, o_.runs, o_.threads, o_.parallel_particles, o_.parts);
  }

  /// A stop asked for; under MPI, asked of any process (every process asks at the same points).
  bool stopped() const {
    const bool asked = o_.stop && o_.stop->load();
    return o_.parts ? o_.parts->any(asked) : asked;
  }

  const Scenario& scenario_;
  const TargetSet& targets_;
  const std::vector<Prior>& priors_;
  const AbcOptions& o_;
  std::size_t d_, k_;
};

int distinct(const std::vector<std::vector<double>>& z) {
  auto sorted = z;
  std::sort(sorted.begin(), sorted.end());
  return static_cast<int>(std::unique(sorted.begin(), sorted.end()) - sorted.begin());
}

}  // namespace

std::uint64_t proposal_seed(std::uint64_t seed, int generation, std::uint64_t index, int purpose, int step) {
  const Words x = words(seed, index, tag(generation, step, kSeed), static_cast<std::uint32_t>(purpose));
  return (static_cast<std::uint64_t>(x.w[0]) << 32) | x.w[1];
}

AbcOptions::Method parse_abc_method(const std::string& name) {
  if (name == "mcmc") return AbcOptions::Method::Mcmc;
  if (name == "pmc") return AbcOptions::Method::Pmc;
  throw std::invalid_argument("unknown ABC-SMC method '" + name + "'; expected mcmc or pmc");
}

const char* abc_method_name(AbcOptions::Method method) { return method == AbcOptions::Method::Pmc ? "pmc" : "mcmc"; }

double effective_sample_size(const std::vector<double>& weights) {
  double s = 0, s2 = 0;
  for (const double w : weights) {
    s += w;
    s2 += w * w;
  }
  return s2 > 0 ? s * s / s2 : 0.0;
}

double weighted_quantile(std::vector<double> values, std::vector<double> weights, double q) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  double cumulative = 0;
  for (const std::size_t k : order) {
    cumulative += weights[k];
    if (cumulative >= q * total * (1 - 1e-12)) return values[k];
  }
  return order.empty() ? 0.0 : values[order.back()];
}

Scenario with_values(const Scenario& scenario, const std::vector<Prior>& priors, const std::vector<double>& values) {
  Scenario s = scenario;
  for (std::size_t k = 0; k < priors.size(); ++k) set_value(s, priors[k].variable, values[k]);
  return s;
}

std::vector<Evaluation> evaluate_sets(const Scenario& scenario, const TargetSet& targets,
                                      const std::vector<Prior>& priors, const std::vector<std::vector<double>>& sets,
                                      const std::vector<std::uint64_t>& seeds, std::uint64_t runs, int threads,
                                      bool parallel_particles, EnsembleParts* parts) {
  std::vector<Evaluation> out(sets.size());
  const int t = threads > 0 ? threads : tbb::info::default_concurrency();
  if (parts) {
    for (std::size_t i = 0; i < sets.size(); ++i) {
      out[i] = evaluate(with_values(scenario, priors, sets[i]), targets, {runs, seeds[i], t, parts});
    }
    return out;
  }
  const auto one = [&](std::size_t i, int ensemble_threads) {
    out[i] = evaluate(with_values(scenario, priors, sets[i]), targets, {runs, seeds[i], ensemble_threads});
  };
  if (!parallel_particles || t == 1) {
    for (std::size_t i = 0; i < sets.size(); ++i) one(i, t);
    return out;
  }
  tbb::task_arena arena(t);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, sets.size(), 1), [&](const tbb::blocked_range<std::size_t>& r) {
      for (std::size_t i = r.begin(); i != r.end(); ++i) one(i, 1);
    });
  });
  return out;
}

AbcResult abc_smc(const Scenario& scenario, const TargetSet& targets, const std::vector<Prior>& priors,
                  const AbcOptions& o, const AbcProgress& progress) {
  if (priors.empty()) throw std::invalid_argument("no free numbers: nothing to calibrate");
  if (o.particles < 4 || o.runs < 1 || o.generations < 1 || !(o.quantile > 0 && o.quantile < 1) ||
      !(o.min_acceptance > 0 && o.min_acceptance <= 1) || o.batch < 1 || !(o.tolerance >= 0) ||
      !(o.move_failure > 0 && o.move_failure < 1) || o.max_steps < 1) {
    throw std::invalid_argument("ABC-SMC options out of range");
  }
  const auto started = Clock::now();
  const std::clock_t cpu_started = std::clock();
  const auto K = static_cast<std::size_t>(o.particles);
  AbcResult result;
  result.priors = priors;
  Smc smc(scenario, targets, priors, o);
  double tolerance = kInf;
  const auto keep = std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(o.quantile * static_cast<double>(K))), 2, K - 1);

  for (int g = 0; g < o.generations; ++g) {
    const auto generation_started = Clock::now();
    AbcGeneration gen;
    gen.index = g;
    bool done = true, interrupted = false, low_acceptance = false;
    if (g == 0) {
      smc.from_prior(gen);
    } else if (o.method == AbcOptions::Method::Pmc) {
      // The tolerance: the weighted quantile of the population's losses, never above the last one.
      tolerance = std::min(tolerance, weighted_quantile(smc.current.losses, smc.current.weights, o.quantile));
      gen.tolerance = tolerance;
      done = smc.pmc(g, tolerance, gen, interrupted);
    } else {
      double first = 0;
      done = smc.mcmc(g, keep, gen, first, interrupted);
      tolerance = gen.tolerance;
      low_acceptance = first < o.min_acceptance;
    }
    result.simulations += gen.simulated;
    if (!done) {
      result.interrupted = interrupted;
      result.stop_reason = interrupted ? "interrupted in generation " + std::to_string(g)
                                       : "generation " + std::to_string(g) + " was abandoned: its acceptance fell below " +
                                             std::to_string(o.min_acceptance) + " at tolerance " + std::to_string(tolerance);
      break;
    }
    const auto& pop = smc.current;
    gen.ess = effective_sample_size(pop.weights);
    gen.distinct = distinct(pop.z);
    gen.loss_min = *std::min_element(pop.losses.begin(), pop.losses.end());
    gen.loss_max = *std::max_element(pop.losses.begin(), pop.losses.end());
    gen.loss_median = weighted_quantile(pop.losses, std::vector<double>(K, 1.0), 0.5);
    gen.seconds = std::chrono::duration<double>(Clock::now() - generation_started).count();
    result.generations.push_back(gen);
    result.values.assign(K, std::vector<double>(priors.size()));
    for (std::size_t i = 0; i < K; ++i) {
      for (std::size_t k = 0; k < priors.size(); ++k) result.values[i][k] = priors[k].from_internal(pop.z[i][k]);
    }
    result.weights = pop.weights;
    result.losses = pop.losses;
    result.evaluations = pop.evaluations;
    if (progress) progress(gen, result);
    if (g > 0 && tolerance <= o.tolerance) {
      result.stop_reason = "the tolerance reached " + std::to_string(o.tolerance);
      break;
    }
    if (low_acceptance) {
      result.stop_reason = "the moves of generation " + std::to_string(g) + " were accepted less often than " +
                           std::to_string(o.min_acceptance);
      break;
    }
    if (g + 1 == o.generations) result.stop_reason = "the last of " + std::to_string(o.generations) + " generations";
  }
  if (result.generations.empty() && result.stop_reason.empty()) result.stop_reason = "no population was completed";
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.cpu_seconds = static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC;
  return result;
}

}  // namespace alignsim
