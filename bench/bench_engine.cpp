// alignsim's benchmark: named configurations measured on a scenario (the calibrated baseline by
// default), written as JSON and a Markdown table with the machine's details. Not part of the tests.
//
//   build/bench/alignsim_bench --out results/bench --overwrite   # everything (about fifteen minutes)
//   build/bench/alignsim_bench --only kernel_1_thread --runs 20000
//
// Configurations:
//   kernel_1_thread, kernel_all_threads  run-steps per second, summaries only (no file), and the speed-up
//   per_run_parameters                   the kernel on one thread with every run's own parameter vector (a
//                                        ParameterPlan) against the same runs with the scenario's parameters
//   memory_1M_runs                       peak memory of `alignsim ensemble` with 1,000,000 runs, summaries only
//   disk_write                           the disk's sequential write speed (1 GiB, fsync'd)
//   store_all_runs                       `alignsim ensemble --store-runs all`: W written per second, fsync'd
//   numpy_peer, numba_peer               bench/peer_numpy.py and bench/peer_numba.py, the dynamics without events
//                                        in NumPy and in Numba, against the engine on one thread, same run count
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <tbb/info.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/Ensemble.hpp"
#include "engine/Summary.hpp"
#include "model/Batch.hpp"
#include "model/Model.hpp"
#include "scenario/Quote.hpp"
#include "scenario/ScenarioLoader.hpp"

namespace fs = std::filesystem;
using namespace alignsim;
using Clock = std::chrono::steady_clock;

namespace {

struct Result {
  std::string name;
  double value;
  std::string unit;
  bool higher_is_better;
  std::string note;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Run-steps per second of the engine with summaries only, best of `repeat`.
double kernel_rate(const Model& model, std::uint64_t runs, int threads, int repeat) {
  double best = 0;
  for (int k = 0; k < repeat; ++k) {
    EnsembleOptions o;
    o.runs = runs;
    o.seed = 1;
    o.threads = threads;
    o.store_runs = 0;
    DiscardSink sink;
    const auto t0 = Clock::now();
    run_ensemble(model, o, sink);
    best = std::max(best, static_cast<double>(runs) * model.months() / seconds_since(t0));
  }
  return best;
}

/// Each run's own parameter vector, perturbed from the scenario's deterministically by the run index:
/// the rates, noise, shock scale and response multipliers by up to +-20% (within their valid
/// ranges), the decision intercepts by up to +-0.5 (window log-odds).
class PerturbedPlan final : public ParameterPlan {
 public:
  explicit PerturbedPlan(const Model& model) : theta_(model.theta()) {}
  void parameters(std::uint64_t run, double* out) const override {
    const auto& table = parameter_table();
    for (std::size_t p = 0; p < theta_.size(); ++p) {
      const double u = uniform(run, p);
      if (p < table.size()) {
        out[p] = std::clamp(theta_[p] * (1.0 + 0.2 * u), table[p].lo, table[p].hi);
      } else {
        out[p] = theta_[p] + 0.5 * u;
      }
    }
  }

 private:
  /// A number in [-1, 1) from (run, p): splitmix64's finaliser.
  static double uniform(std::uint64_t run, std::size_t p) {
    std::uint64_t z = run * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(p) + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0;
  }
  std::vector<double> theta_;
};

/// Records each month's M into a dyad buffer, as the engine's observer does (without storing W).
class RecordingObserver final : public BatchObserver {
 public:
  explicit RecordingObserver(const Model& m) : buffer_(m.agents(), m.months(), kLanes) {}
  void on_month(int t, const BatchState& s) override { buffer_.record(t, s, 0); }

 private:
  DyadBuffer buffer_;
};

/// Run-steps per second of the kernel on this thread, batch after batch, with or without a plan.
double batch_rate(const Model& model, std::uint64_t runs, const ParameterPlan* plan) {
  BatchState state(model);
  RecordingObserver observer(model);
  const auto t0 = Clock::now();
  for (std::uint64_t first = 0; first < runs; first += kLanes) {
    const int valid = static_cast<int>(std::min<std::uint64_t>(kLanes, runs - first));
    simulate_batch(model, 1, first, valid, state, observer, plan);
  }
  return static_cast<double>(runs) * model.months() / seconds_since(t0);
}

/// Formats a number with every digit it has.
std::string exact(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", x);
  return text;
}

/// Runs a command, returning its exit code, wall time and peak resident memory (bytes).
struct Child {
  int code;
  double seconds;
  double max_rss_bytes;
};
Child spawn(const std::vector<std::string>& argv) {
  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::perror(args[0]);
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, seconds_since(t0), static_cast<double>(usage.ru_maxrss) * 1024.0};
}

void fsync_file(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// Sequential write speed of the folder's disk: `bytes` in 8 MiB writes, then fsync.
double disk_write_speed(const fs::path& dir, std::size_t bytes) {
  const fs::path file = dir / ".disk_write_test";
  std::vector<char> buffer(8 << 20, 'x');
  const auto t0 = Clock::now();
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + file.string());
  for (std::size_t done = 0; done < bytes; done += buffer.size()) {
    if (::write(fd, buffer.data(), buffer.size()) != static_cast<ssize_t>(buffer.size())) {
      ::close(fd);
      throw std::runtime_error("short write to " + file.string());
    }
  }
  ::fsync(fd);
  ::close(fd);
  const double speed = static_cast<double>(bytes) / seconds_since(t0);
  fs::remove(file);
  return speed;
}

std::string read_first_line(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line.substr(line.find(':') + 1);
  }
  return "unknown";
}

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  s.erase(s.find_last_not_of(" \t\n") + 1);
  return s;
}

/// Runs a Python peer with the model's sizes and dynamics parameters; its run-steps per second.
double peer_rate(const std::string& python, const std::string& script, const Model& model, std::uint64_t runs,
                 int repeat, const fs::path& json_path) {
  const Parameters& p = model.parameters();
  const auto c = spawn({python, script, "--runs", std::to_string(runs), "--months", std::to_string(model.months()),
                        "--agents", std::to_string(model.agents()), "--issues", std::to_string(model.issues()),
                        "--repeat", std::to_string(repeat), "--k-a", exact(p.k_a), "--k-r", exact(p.k_r), "--k-b",
                        exact(p.k_b), "--sigma", exact(p.sigma), "--k-p", exact(p.k_p), "--k-0", exact(p.k_0),
                        "--json", json_path.string()});
  if (c.code != 0) throw std::runtime_error(script + " failed (exit code " + std::to_string(c.code) + ")");
  std::ifstream in(json_path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  const auto key = s.find("\"run_steps_per_second\"");
  if (key == std::string::npos) throw std::runtime_error(json_path.string() + ": no run_steps_per_second");
  fs::remove(json_path);
  return std::stod(s.substr(s.find(':', key) + 1));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"alignsim benchmark: engine speed, scaling, per-run parameters, memory and storage, against NumPy "
               "and Numba peers"};
  std::string scenario_path = "scenarios/baseline/calibrated.toml";
  std::string alignsim_path = "build/sim/app/alignsim";
  std::string out_dir;  // empty: print the results, write nothing
  std::string python = "/usr/bin/python3";
  std::string numpy_peer = "bench/peer_numpy.py";
  std::string numba_peer = "bench/peer_numba.py";
  std::string work_dir = "results/runs";
  std::uint64_t runs = 200000;
  std::uint64_t store_runs = 20000;
  std::uint64_t peer_runs = 100000;
  std::uint64_t plan_runs = 50000;
  int repeat = 3;
  std::vector<std::string> only;
  app.add_option("--scenario", scenario_path, "Scenario to measure")->capture_default_str();
  app.add_option("--alignsim", alignsim_path, "The alignsim program")->capture_default_str();
  app.add_option("--out", out_dir, "Folder for bench.json and bench.md; without it nothing is written");
  bool overwrite = false;
  app.add_flag("--overwrite", overwrite, "Replace bench.json and bench.md when --out holds them already");
  app.add_option("--work", work_dir, "Folder for the files the benchmark writes and removes")->capture_default_str();
  app.add_option("--runs", runs, "Runs for the kernel configurations")->capture_default_str();
  app.add_option("--store-runs", store_runs, "Runs for store_all_runs")->capture_default_str();
  app.add_option("--peer-runs", peer_runs, "Runs for the peers and the matching engine run")->capture_default_str();
  app.add_option("--plan-runs", plan_runs, "Runs for per_run_parameters (each way)")->capture_default_str();
  app.add_option("--repeat", repeat, "Best of this many timings")->capture_default_str();
  app.add_option("--python", python, "Python with NumPy and Numba, for the peers")->capture_default_str();
  app.add_option("--numpy-peer", numpy_peer, "The NumPy peer")->capture_default_str();
  app.add_option("--numba-peer", numba_peer, "The Numba peer")->capture_default_str();
  app.add_option("--only", only, "Run only these configurations");
  CLI11_PARSE(app, argc, argv);
  // Refused before anything is measured: an earlier result is replaced only when asked.
  for (const char* name : {"bench.json", "bench.md"}) {
    if (!out_dir.empty() && !overwrite && fs::exists(fs::path(out_dir) / name)) {
      std::cerr << "alignsim_bench: " << (fs::path(out_dir) / name).string()
                << " exists; pass --overwrite to replace it\n";
      return 2;
    }
  }
  const auto wanted = [&](const std::string& name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  };

  const Scenario scenario = load_scenario(scenario_path);
  const Model model(scenario);
  const int cores = tbb::info::default_concurrency();
  if (!out_dir.empty()) fs::create_directories(out_dir);
  fs::create_directories(work_dir);
  std::vector<Result> results;
  const auto report = [&](Result r) {
    std::printf("%-34s %14.4g %-22s %s\n", r.name.c_str(), r.value, r.unit.c_str(), r.note.c_str());
    std::fflush(stdout);
    results.push_back(std::move(r));
  };

  double one = 0;
  if (wanted("kernel_1_thread") || wanted("kernel_all_threads")) {
    one = kernel_rate(model, runs, 1, repeat);
    report({"kernel_1_thread", one, "run-steps/s", true, std::to_string(runs) + " runs, summaries only"});
  }
  if (wanted("kernel_all_threads")) {
    const double all = kernel_rate(model, runs, cores, repeat);
    report({"kernel_all_threads", all, "run-steps/s", true, std::to_string(cores) + " threads"});
    report({"kernel_per_thread_all_threads", all / cores, "run-steps/s/thread", true, ""});
    report({"speedup_1_to_all_threads", all / one, "x", true, "1 to " + std::to_string(cores) + " threads"});
  }
  const fs::path scratch = fs::path(work_dir) / "bench_scratch.h5";
  if (wanted("memory_1M_runs")) {
    const auto c = spawn({alignsim_path, "ensemble", scenario_path, "--runs", "1000000", "--seed", "1",
                          "--store-runs", "0", "--quiet", "--out", scratch.string()});
    if (c.code != 0) throw std::runtime_error("alignsim failed in memory_1M_runs");
    report({"memory_1M_runs_peak", c.max_rss_bytes / (1 << 20), "MiB", false,
             "1,000,000 runs, summaries only, " + std::to_string(cores) + " threads"});
    report({"memory_1M_runs_rate", 1e6 * model.months() / c.seconds, "run-steps/s", true, "with the file written"});
    fs::remove(scratch);
  }
  double disk = 0;
  if (wanted("disk_write") || wanted("store_all_runs")) {
    disk = disk_write_speed(work_dir, std::size_t{1} << 30);
    report({"disk_write", disk / 1e9, "GB/s", true, "1 GiB sequential, fsync'd"});
  }
  if (wanted("store_all_runs")) {
    const double bytes = static_cast<double>(store_runs) * model.months() * model.agents() * model.agents() * 4.0;
    for (const char* level : {"0", "1"}) {
      const auto t0 = Clock::now();
      const auto c = spawn({alignsim_path, "ensemble", scenario_path, "--runs", std::to_string(store_runs), "--seed",
                            "1", "--store-runs", std::to_string(store_runs), "--deflate", level, "--quiet", "--out",
                            scratch.string()});
      fsync_file(scratch);
      const double seconds = seconds_since(t0);
      if (c.code != 0) throw std::runtime_error("alignsim failed in store_all_runs");
      const double size = static_cast<double>(fs::file_size(scratch));
      const std::string name = std::string("store_all_runs_deflate") + level;
      report({name, bytes / seconds / 1e9, "GB/s of W", true,
              std::to_string(store_runs) + " runs, " + std::to_string(size / 1e9).substr(0, 5) + " GB on disk, fsync'd"});
      report({name + "_vs_disk", bytes / seconds / disk, "x disk speed", true, ""});
      report({name + "_rate", static_cast<double>(store_runs) * model.months() / seconds, "run-steps/s", true, ""});
      fs::remove(scratch);
    }
  }
  if (wanted("per_run_parameters")) {
    // Alternated, best of `repeat` each, so that a change in the machine's load touches both alike.
    const PerturbedPlan plan(model);
    double fixed = 0, own = 0;
    for (int k = 0; k < repeat; ++k) {
      fixed = std::max(fixed, batch_rate(model, plan_runs, nullptr));
      own = std::max(own, batch_rate(model, plan_runs, &plan));
    }
    const std::string note = std::to_string(plan_runs) + " runs, 1 thread, M recorded, no summaries";
    report({"kernel_fixed_parameters", fixed, "run-steps/s", true, note + ", the scenario's parameters"});
    report({"kernel_per_run_parameters", own, "run-steps/s", true,
            note + ", each run's own parameters (rates +-20%, intercepts +-0.5)"});
    report({"per_run_parameters_throughput", own / fixed, "x", true, "per-run over fixed; target >= 0.85"});
  }
  if (wanted("numpy_peer") || wanted("numba_peer")) {
    const double ours = kernel_rate(model, peer_runs, 1, repeat);
    report({"kernel_1_thread_peer_runs", ours, "run-steps/s", true, std::to_string(peer_runs) + " runs, with events"});
    for (const auto& [name, script] : {std::pair{std::string("numpy"), numpy_peer}, {"numba", numba_peer}}) {
      if (!wanted(name + "_peer")) continue;
      const double rate = peer_rate(python, script, model, peer_runs, repeat, fs::path(work_dir) / "peer.json");
      report({name + "_peer", rate, "run-steps/s", true, std::to_string(peer_runs) + " runs, 1 thread, no events"});
      report({"speedup_vs_" + name + "_per_thread", ours / rate, "x", true, "target >= 10"});
    }
  }

  utsname u{};
  uname(&u);
  const std::string cpu = trim(read_first_line("/proc/cpuinfo", "model name"));
  const std::string mem = trim(read_first_line("/proc/meminfo", "MemTotal"));
  const std::string flags = read_first_line("/proc/cpuinfo", "flags");
  const bool avx512 = flags.find("avx512f") != std::string::npos;
  // The day of the measurement (UTC): a speed is a fact about a machine on a day, not a timeless one.
  char date[16];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
  if (out_dir.empty()) {
    std::cout << "no --out: bench.json and bench.md not written\n";
    return 0;
  }
  std::ostringstream json;
  json << "{\n  \"machine\": {\"date\": " << quoted(date) << ", \"cpu\": " << quoted(cpu) << ", \"cores\": " << cores
       << ", \"memory\": " << quoted(mem) << ", \"avx512\": " << (avx512 ? "true" : "false")
       << ", \"kernel\": " << quoted(std::string(u.sysname) + " " + u.release) << ", \"compiler\": "
       << quoted("GCC " __VERSION__) << ", \"scenario\": " << quoted(scenario_path)
       << ", \"months\": " << model.months() << ", \"agents\": " << model.agents() << ", \"events\": " << model.events()
       << "},\n  \"results\": [\n";
  for (std::size_t k = 0; k < results.size(); ++k) {
    const auto& r = results[k];
    json << "    {\"name\": " << quoted(r.name) << ", \"value\": " << r.value << ", \"unit\": " << quoted(r.unit)
         << ", \"higher_is_better\": " << (r.higher_is_better ? "true" : "false") << ", \"note\": " << quoted(r.note)
         << "}" << (k + 1 < results.size() ? "," : "") << "\n";
  }
  json << "  ]\n}\n";
  std::ostringstream md;
  md << "# alignsim benchmark\n\nMeasured " << date << " by `build/bench/alignsim_bench --out results/bench`.\n\nMachine: " << cpu << ", " << cores << " cores, " << mem << " memory, AVX-512 "
     << (avx512 ? "yes" : "no") << ", " << u.sysname << " " << u.release << ", GCC " << __VERSION__ << ".\n"
     << "Scenario: `" << scenario_path << "` (" << model.agents() << " agents, " << model.months() << " months, "
     << model.events() << " events).\n\n| configuration | value | unit | note |\n|---|---:|---|---|\n";
  for (const auto& r : results) {
    char value[32];
    std::snprintf(value, sizeof value, "%.4g", r.value);
    md << "| " << r.name << " | " << value << " | " << r.unit << " | " << r.note << " |\n";
  }
  // Each file is written whole beside its final name and then renamed over it, so that a failed
  // write (a full disk) leaves the earlier result as it was.
  for (const auto& [name, text] : {std::pair{"bench.json", json.str()}, std::pair{"bench.md", md.str()}}) {
    const fs::path target = fs::path(out_dir) / name;
    const fs::path temporary = target.string() + ".tmp";
    std::ofstream f(temporary);
    f << text;
    f.close();
    if (!f) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
      std::cerr << "alignsim_bench: could not write " << temporary.string() << "\n";
      return 1;
    }
    fs::rename(temporary, target);
  }
  std::cout << "wrote " << (fs::path(out_dir) / "bench.json").string() << " and bench.md\n";
  return 0;
}
