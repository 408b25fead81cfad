// bench_gbench.cc: the C interface of bench.h over Google Benchmark 1.7.1.
// Each tk_bench_def becomes one registered benchmark; a console reporter
// that also records every repetition gives the C side its medians back.
#include "bench/bench.h"

extern "C" {
#include "autotune/measure.h"
}

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Entry {
  std::string name;
  tk_bench_def def;
  bool setup_called = false;
  bool declined = false;
  bool ran = false;
  std::string why;              // why it was skipped or failed
  std::vector<double> samples;  // seconds per call, one per repetition
  double reported_median = -1;  // the "median" aggregate, when only aggregates were reported
};

std::vector<std::unique_ptr<Entry>> g_entries;
std::map<std::string, Entry *> g_by_name;

// One run of the benchmark: setup on the first, then the timed loop.
void run_entry(benchmark::State &st, Entry *e) {
  e->ran = true;
  if (!e->setup_called) {
    e->setup_called = true;
    char why[256] = "";
    if (e->def.setup && e->def.setup(e->def.user, why, sizeof why) != 0) {
      e->declined = true;
      e->why = why[0] ? why : "setup declined";
    }
  }
  if (e->declined) st.SkipWithError(e->why.c_str());
  for (auto _ : st) {
    char why[256] = "";
    double r = e->def.run(e->def.user, why, sizeof why);
    if (r < 0) {
      e->why = why[0] ? why : "run failed";
      st.SkipWithError(e->why.c_str());
      break;
    }
    if (e->def.manual_time) st.SetIterationTime(r);
  }
  if (e->def.flops > 0)
    st.counters["FLOP/s"] = benchmark::Counter(e->def.flops, benchmark::Counter::kIsIterationInvariantRate);
  if (e->def.bytes > 0)
    st.counters["bytes/s"] = benchmark::Counter(e->def.bytes, benchmark::Counter::kIsIterationInvariantRate);
}

// The console reporter, also keeping each repetition's time per call.
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  explicit RecordingReporter(OutputOptions o) : ConsoleReporter(o) {}

  void ReportRuns(const std::vector<Run> &runs) override {
    for (const Run &r : runs) {
      auto it = g_by_name.find(r.run_name.function_name);
      if (it == g_by_name.end()) continue;
      Entry *e = it->second;
      if (r.error_occurred) {
        if (e->why.empty()) e->why = r.error_message;
      } else if (r.run_type == Run::RT_Iteration && r.iterations > 0) {
        e->samples.push_back(r.real_accumulated_time / static_cast<double>(r.iterations));
      } else if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
        // Seconds from the reported unit (aggregates are per call already).
        e->reported_median = r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit);
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

extern "C" void tk_bench_init(int *argc, char **argv) { benchmark::Initialize(argc, argv); }

extern "C" int tk_bench_register(const tk_bench_def *def) {
  if (!def || !def->name || !def->name[0] || !def->run || g_by_name.count(def->name)) return -1;
  auto e = std::make_unique<Entry>();
  e->name = def->name;
  e->def = *def;
  e->def.name = nullptr;  // the copy in e->name is what stays valid
  Entry *raw = e.get();
  benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
      raw->name.c_str(), [raw](benchmark::State &st) { run_entry(st, raw); });
  b->Unit(benchmark::kMillisecond);
  if (def->manual_time)
    b->UseManualTime();
  else
    b->UseRealTime();
  g_by_name[raw->name] = raw;
  g_entries.push_back(std::move(e));
  return static_cast<int>(g_entries.size()) - 1;
}

extern "C" void tk_bench_add_context(const char *key, const char *value) {
  benchmark::AddCustomContext(key, value);
}

extern "C" int tk_bench_run(void) {
  int color = isatty(fileno(stdout)) ? benchmark::ConsoleReporter::OO_Color : 0;
  RecordingReporter reporter(static_cast<benchmark::ConsoleReporter::OutputOptions>(
      benchmark::ConsoleReporter::OO_Tabular | color));
  size_t n = benchmark::RunSpecifiedBenchmarks(&reporter);
  std::fflush(stdout);
  for (auto &e : g_entries)
    if (e->setup_called && e->def.teardown) e->def.teardown(e->def.user);
  return static_cast<int>(n);
}

extern "C" int tk_bench_result_get(const char *name, tk_bench_result *out) {
  auto it = name ? g_by_name.find(name) : g_by_name.end();
  if (it == g_by_name.end()) return 0;
  const Entry *e = it->second;
  tk_bench_result r = {};
  r.ran = e->ran;
  r.flops = e->def.flops;
  r.bytes = e->def.bytes;
  r.samples = static_cast<int>(e->samples.size());
  r.skipped = e->ran && (e->declined || !e->why.empty());
  if (r.skipped) std::snprintf(r.why, sizeof r.why, "%s", e->why.c_str());
  if (!e->samples.empty()) {
    std::vector<double> v = e->samples;
    tk_stats s = tk_stats_of(v.data(), static_cast<int>(v.size()));
    r.median_s = s.median;
    r.min_s = s.min;
    r.max_s = v.back();  // sorted by tk_stats_of
  } else if (e->reported_median > 0) {
    r.median_s = r.min_s = r.max_s = e->reported_median;
  }
  *out = r;
  return 1;
}

extern "C" void tk_bench_shutdown(void) {
  benchmark::ClearRegisteredBenchmarks();
  benchmark::Shutdown();
  g_by_name.clear();
  g_entries.clear();
}
