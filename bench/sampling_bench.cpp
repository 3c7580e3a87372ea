// The sampling floor: what the random numbers of one care_wf trajectory cost, draw by draw.
//
//   Philox/...          raw generator throughput (32-bit words, uniforms, opening a stream;
//                       lanes_first_block: the first blocks of 8 streams at once, as the lane
//                       samplers make them, items = blocks)
//   Binomial/<impl>/np=../p=..
//                       one binomial sampler on a grid of n p in {0.5, 5, 50, 500} and
//                       p in {0.002, 0.02, 1/12, 0.25, 0.5}, uniforms from one long stream;
//                       impl = engine (setup on every draw, from p), engine_presetup
//                       (make_binomial_setup hoisted out of the loop) or baseline (the scalar
//                       BTRS of bench/btrs_baseline.h, setup on every draw)
//   BinomialMix/...     the binomial (n, p) mix of the default model (see default_binomial_mix),
//                       `stream_per_draw` opening a fresh stream per draw exactly as care_wf
//                       does, `shared_stream` drawing every uniform from one stream; impl as
//                       above, or engine_shared_probability: as care_wf calls it, with the
//                       p-dependent constants (BinomialProbability) made once per month for each
//                       distinct p and the rest of the setup on every draw, or engine_lanes: as a
//                       model stepping 8 trajectories in lanes draws, sample_binomial_lanes on
//                       8 trajectories at each (n, p) of the mix, the lanes' n and p spread
//                       over +-10% of it (trajectories differ: see lane_spread), each lane's
//                       probabilities made once a month as care_wf makes them, items = draws
//   Normal/...          the standard normal shocks (one uniform, inversion)
//   ParameterDraws/...  the per-trajectory parameter draws of the default configuration
//   TrajectoryDraws     every draw of one baseline trajectory, addressed as care_wf addresses
//                       them and drawn as care_wf draws them (8 trajectories in lanes, their
//                       n and p spread as in engine_lanes, probabilities made once a month per
//                       lane), without the model's arithmetic: a check on the measured
//                       sampling floor, CareWf/baseline/draws (bench/model_bench.cpp), which
//                       replays the draws the model itself made
//
// Throughput is items/s = draws/s (TrajectoryDraws: trajectory-months/s). Fixed seeds throughout.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/btrs_baseline.h"
#include "engine/lane_samplers.h"
#include "engine/philox_lanes.h"
#include "engine/random_stream.h"
#include "engine/run_settings.h"
#include "engine/samplers.h"
#include "models/care_wf_config.h"
#include "bench/default_document.h"

namespace {

using carecast::bench::btrs_binomial;
using carecast::engine::BinomialSetup;
using carecast::engine::RandomStream;
using carecast::engine::StreamAddress;
namespace engine = carecast::engine;
namespace models = carecast::models;

constexpr std::uint64_t kSeed = 20261123;
// care_wf's draw sites (models/care_wf.cpp): flows at 2^20 + (region * P + provider) * 4 + flow,
// demand shocks at 2000 + region, macro shocks at 1000..1002, parameters at their index.
constexpr std::uint32_t kSiteFlow = 1u << 20;
constexpr std::uint32_t kSiteDemandShock = 2000;
constexpr std::uint32_t kSiteMacro = 1000;

struct Defaults {
  models::CareWfConfig config;
  engine::RunSettings settings;
};

const Defaults& defaults() {
  static const Defaults d = [] {
    const auto document = carecast::bench::default_document();
    return Defaults{models::read_care_wf_config(document, 0), engine::read_run_settings(document)};
  }();
  return d;
}

struct BinomialDraw {
  std::int64_t n;
  double p;
};

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double logit(double p) { return std::log(p / (1.0 - p)); }

// The R * P * 4 binomial draws of month 0 of the default baseline, in care_wf's order (per region
// and provider: new-staff leavers, settled leavers, progression, hiring), computed as care_wf
// computes them (models/care_wf.cpp, initial_state and run_scenario) with every uncertain
// parameter at its mean and each draw a dependent n depends on at its expectation, rounded.
// Headcount and vacancies stay within ~10% of their month-0 level over the 120 months (see
// `carecast info`), so this is the mix of the whole run. In the default data n p runs from ~1
// (community provider, small boroughs) to ~200 (Birmingham, large chains), p from ~0.02 to ~0.3.
std::vector<BinomialDraw> default_binomial_mix() {
  const auto& c = defaults().config;
  const auto at = [&](models::Param p) { return c[p].mean(); };
  using models::Param;
  constexpr double kWeeksPerMonth = 52.0 / 12.0;
  const double nlw = c.nlw_path.empty() ? at(Param::nlw0) : c.nlw_path[0];
  double base = nlw;
  if (c.wage == models::WagePolicy::real_living_wage) base = std::max(nlw, at(Param::rlw0));
  const double w_out = at(Param::outside_wage0);
  const double care_time = at(Param::care_time), oncost = at(Param::oncost);
  const std::size_t R = c.R(), A = c.A(), P = c.P();
  std::vector<double> wage(P), fee(P);
  double fee_avg = 0.0;
  for (std::size_t p = 0; p < P; ++p) {
    wage[p] = base * (1.0 + c.wage_premium[p]);
    fee[p] = (wage[p] * (1.0 + oncost) / care_time + c.overhead[p]) / (1.0 - c.margin[p]);
    fee_avg += c.share[p] * fee[p];
  }
  std::vector<BinomialDraw> mix;
  for (std::size_t r = 0; r < R; ++r) {
    double demand = 0.0;
    for (std::size_t a = 0; a < A; ++a) {
      demand += c.population_initial[r * A + a] * c.prevalence[a] *
                at(Param::prevalence_multiplier) * c.hours_per_week[a] * kWeeksPerMonth;
    }
    const double budget = c.budget0.empty() ? at(Param::budget_cover0) * demand * fee_avg
                                            : c.budget0[r];
    const double funded = std::min(demand, budget / fee_avg);
    for (std::size_t p = 0; p < P; ++p) {
      const double posts = c.share[p] * funded / (c.contract_hours[p] * care_time * kWeeksPerMonth);
      const double total = std::floor(posts * (1.0 - at(Param::vacancy0)));
      const double fresh = std::floor(at(Param::new_share0) * total);
      const double settled = total - fresh;
      const double log_relative_wage = std::log(wage[p] / w_out);
      double q[2];
      for (int k = 0; k < 2; ++k) {
        double tau = c.turnover_base[p][static_cast<std::size_t>(k)];
        if (c.turnover_model == models::TurnoverModel::wage_logit) {
          tau = logistic(logit(tau) + at(Param::beta_w) * log_relative_wage);
        }
        q[k] = 1.0 - std::pow(1.0 - tau, 1.0 / 12.0);
      }
      const double left_new = std::round(fresh * q[0]);
      const double left_settled = std::round(settled * q[1]);
      const double vacant =
          std::max(0.0, std::floor(posts - (fresh + settled - left_new - left_settled)));
      const double fill =
          logistic(logit(c.fill_base[p]) + at(Param::gamma_w) * log_relative_wage);
      mix.push_back({static_cast<std::int64_t>(fresh), q[0]});
      mix.push_back({static_cast<std::int64_t>(settled), q[1]});
      mix.push_back({static_cast<std::int64_t>(fresh - left_new), 1.0 / 12.0});
      mix.push_back({static_cast<std::int64_t>(vacant), fill});
    }
  }
  return mix;
}

const std::vector<BinomialDraw>& mix() {
  static const std::vector<BinomialDraw> m = default_binomial_mix();
  return m;
}

// The distinct probabilities of the mix, as care_wf shares them (a provider's leaving and fill
// probabilities are the same in every region, progression is 1/12 everywhere): values[slot[i]]
// is the p of draw i.
struct SharedProbabilities {
  std::vector<double> values;
  std::vector<std::size_t> slot;
};

const SharedProbabilities& shared_probabilities() {
  static const SharedProbabilities shared = [] {
    SharedProbabilities s;
    for (const auto& d : mix()) {
      const auto found = std::find(s.values.begin(), s.values.end(), d.p);
      s.slot.push_back(static_cast<std::size_t>(found - s.values.begin()));
      if (found == s.values.end()) s.values.push_back(d.p);
    }
    return s;
  }();
  return shared;
}

// What care_wf does once a month: the constants of each distinct probability.
void make_probabilities(std::vector<engine::BinomialProbability>& table) {
  const auto& values = shared_probabilities().values;
  table.resize(values.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    table[k] = engine::make_binomial_probability(values[k]);
  }
}

// Trajectories stepped in lanes differ: their parameters are drawn, so their headcounts and
// flow probabilities differ. Lane l's n and p are the mix's times lane_spread(l), spread evenly
// over [0.9, 1.1], so that no lane shares a probability or an n with another (sharing would
// flatter the lane sampler, which shares work between equal lanes).
double lane_spread(std::size_t lane) {
  return 1.0 + 0.1 * (static_cast<double>(lane) - 3.5) / 3.5;
}

// Each lane's probabilities of the mix, as care_wf makes them once a month: for the 8 lanes at
// once (make_binomial_probability_lanes), tables[k] holding distinct probability k of every lane.
void make_lane_probabilities(std::vector<engine::BinomialProbabilityLanes>& tables) {
  const auto& values = shared_probabilities().values;
  tables.resize(values.size());
  engine::Lanes<double> p;
  for (std::size_t k = 0; k < values.size(); ++k) {
    for (std::size_t l = 0; l < engine::kLanes; ++l) {
      p[l] = std::min(1.0, values[k] * lane_spread(l));
    }
    engine::make_binomial_probability_lanes(p, tables[k]);
  }
}

// n of the mix's draw i in lane l: lane_counts()[i][l] (made once, as a model has its counts at
// hand).
const std::vector<engine::Lanes<double>>& lane_counts() {
  static const auto counts = [] {
    std::vector<engine::Lanes<double>> table;
    for (const auto& d : mix()) {
      auto& n = table.emplace_back();
      for (std::size_t l = 0; l < engine::kLanes; ++l) {
        n[l] = std::round(static_cast<double>(d.n) * lane_spread(l));
      }
    }
    return table;
  }();
  return counts;
}

// One month of the mix's binomials for the 8 trajectories of `address` (its month set), drawn as
// care_wf draws them: the lanes' probabilities made, then one sample_binomial_lanes per flow.
// Returns the sum of the variates.
double draw_mix_month(engine::LaneAddresses& address,
                      std::vector<engine::BinomialProbabilityLanes>& probabilities) {
  const auto& slot = shared_probabilities().slot;
  const auto& counts = lane_counts();
  make_lane_probabilities(probabilities);
  engine::Lanes<double> out;
  double sum = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    address.site = kSiteFlow + static_cast<std::uint32_t>(i);
    engine::sample_binomial_lanes(address, counts[i], probabilities[slot[i]], out);
    for (const double x : out) sum += x;
  }
  return sum;
}

// Describes the mix in counters (shown once per benchmark).
void describe_mix(benchmark::State& state) {
  double inversion = 0, engine_inversion = 0, np_sum = 0, np_min = 1e300, np_max = 0;
  for (const auto& d : mix()) {
    const double np = static_cast<double>(d.n) * std::min(d.p, 1.0 - d.p);
    inversion += np < 10.0;  // the baseline's switch to BTRS
    engine_inversion += engine::make_binomial_setup(d.n, d.p).method ==
                        BinomialSetup::Method::kInversion;
    np_sum += np;
    np_min = std::min(np_min, np);
    np_max = std::max(np_max, np);
  }
  const auto size = static_cast<double>(mix().size());
  state.counters["mix_draws"] = size;
  state.counters["mix_inversion_share"] = inversion / size;
  state.counters["mix_engine_inversion_share"] = engine_inversion / size;
  state.counters["engine_btrs_threshold"] = engine::kBinomialBtrsThreshold;
  state.counters["mix_mean_np"] = np_sum / size;
  state.counters["mix_min_np"] = np_min;
  state.counters["mix_max_np"] = np_max;
}

// ---- Philox ----

constexpr int kInner = 256;

void PhiloxBits32(benchmark::State& state) {
  RandomStream stream(StreamAddress{kSeed, 0, 0, 0});
  for (auto _ : state) {
    for (int i = 0; i < kInner; ++i) benchmark::DoNotOptimize(stream.bits32());
  }
  state.SetItemsProcessed(state.iterations() * kInner);
}

void PhiloxUniform(benchmark::State& state) {
  RandomStream stream(StreamAddress{kSeed, 0, 0, 0});
  for (auto _ : state) {
    for (int i = 0; i < kInner; ++i) benchmark::DoNotOptimize(stream.uniform());
  }
  state.SetItemsProcessed(state.iterations() * kInner);
}

// Opening a stream at a fresh address and taking one uniform: what every care_wf variate pays
// before its sampler runs.
void PhiloxOpenStreamUniform(benchmark::State& state) {
  std::uint32_t trajectory = 0;
  for (auto _ : state) {
    for (int i = 0; i < kInner; ++i) {
      RandomStream stream(StreamAddress{kSeed, trajectory, kSiteFlow + static_cast<std::uint32_t>(i), 7});
      benchmark::DoNotOptimize(stream.uniform());
    }
    ++trajectory;
  }
  state.SetItemsProcessed(state.iterations() * kInner);
}

// The first Philox blocks of 8 streams at once (engine/philox_lanes.h): what the lane samplers
// pay per lane before their arithmetic. Items are blocks (one per stream).
void PhiloxLanesFirstBlock(benchmark::State& state) {
  std::array<std::uint32_t, engine::kPhiloxLanes> trajectories{};
  std::uint32_t trajectory = 0;
  for (auto _ : state) {
    for (std::size_t l = 0; l < engine::kPhiloxLanes; ++l) {
      trajectories[l] = trajectory + static_cast<std::uint32_t>(l);
    }
    for (int i = 0; i < kInner / static_cast<int>(engine::kPhiloxLanes); ++i) {
      // As the lane samplers call it: block 0 of month 7, one site, 8 trajectories.
      auto block = engine::philox4x32_lanes_wide(0, 7, kSiteFlow + static_cast<std::uint32_t>(i),
                                                 trajectories, static_cast<std::uint32_t>(kSeed),
                                                 static_cast<std::uint32_t>(kSeed >> 32));
      benchmark::DoNotOptimize(block);
    }
    trajectory += engine::kPhiloxLanes;
  }
  state.SetItemsProcessed(state.iterations() * kInner);
}

// ---- Binomial on a grid ----

enum class Impl { engine, engine_presetup, engine_shared_probability, engine_lanes, baseline };

void BinomialGrid(benchmark::State& state, Impl impl, double np, double p) {
  std::int64_t n = std::max<std::int64_t>(1, std::llround(np / p));
  RandomStream stream(StreamAddress{kSeed, 1, 2, 3});
  auto uniform = [&stream] { return stream.uniform(); };
  const BinomialSetup setup = engine::make_binomial_setup(n, p);
  const engine::BinomialProbability probability = engine::make_binomial_probability(p);
  std::int64_t sum = 0;
  for (auto _ : state) {
    for (int i = 0; i < kInner; ++i) {
      // Launder n and p so that no per-draw setup can be hoisted out of the loop.
      benchmark::DoNotOptimize(n);
      benchmark::DoNotOptimize(p);
      switch (impl) {
        case Impl::engine: sum += engine::sample_binomial(stream, n, p); break;
        case Impl::engine_presetup: sum += engine::sample_binomial(stream, setup); break;
        case Impl::engine_shared_probability:
          sum += engine::sample_binomial(stream, n, probability);
          break;
        case Impl::engine_lanes: break;  // not on the grid
        case Impl::baseline: sum += btrs_binomial(uniform, n, p); break;
      }
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * kInner);
  state.counters["n"] = static_cast<double>(n);
  state.counters["p"] = p;
  state.counters["mean_error"] =  // sanity: (sample mean - n p) / (n p)
      (static_cast<double>(sum) / static_cast<double>(state.iterations() * kInner) -
       static_cast<double>(n) * p) / (static_cast<double>(n) * p);
}

// ---- Binomial at the default model's mix ----

// stream_per_draw: each draw opens its own stream at care_wf's address for it (trajectory,
// flow site, month), as the model does. Otherwise all uniforms come from one stream.
void BinomialMix(benchmark::State& state, Impl impl, bool stream_per_draw) {
  const auto& draws = mix();
  std::vector<BinomialSetup> setups;
  for (const auto& d : draws) setups.push_back(engine::make_binomial_setup(d.n, d.p));
  const auto& slot = shared_probabilities().slot;
  std::vector<engine::BinomialProbability> probabilities;
  RandomStream shared(StreamAddress{kSeed, 1, 2, 3});
  std::uint32_t trajectory = 0;
  std::int64_t sum = 0;
  if (impl == Impl::engine_lanes) {
    // 8 trajectories at once, a stream per draw and lane at care_wf's address for it.
    engine::LaneAddresses address;
    address.seed = kSeed;
    address.month = 5;
    std::vector<engine::BinomialProbabilityLanes> lane_probabilities;
    double total = 0;
    for (auto _ : state) {
      for (std::size_t l = 0; l < engine::kLanes; ++l) {
        address.trajectory[l] = trajectory + static_cast<std::uint32_t>(l);
      }
      total += draw_mix_month(address, lane_probabilities);
      trajectory += engine::kLanes;
    }
    benchmark::DoNotOptimize(total);
    state.SetItemsProcessed(state.iterations() *
                            static_cast<std::int64_t>(draws.size() * engine::kLanes));
    describe_mix(state);
    return;
  }
  for (auto _ : state) {
    if (impl == Impl::engine_shared_probability) make_probabilities(probabilities);
    for (std::size_t i = 0; i < draws.size(); ++i) {
      RandomStream own(StreamAddress{kSeed, trajectory, kSiteFlow + static_cast<std::uint32_t>(i), 5});
      RandomStream& stream = stream_per_draw ? own : shared;
      auto uniform = [&stream] { return stream.uniform(); };
      switch (impl) {
        case Impl::engine: sum += engine::sample_binomial(stream, draws[i].n, draws[i].p); break;
        case Impl::engine_presetup: sum += engine::sample_binomial(stream, setups[i]); break;
        case Impl::engine_shared_probability:
          sum += engine::sample_binomial(stream, draws[i].n, probabilities[slot[i]]);
          break;
        case Impl::engine_lanes: break;  // handled above
        case Impl::baseline: sum += btrs_binomial(uniform, draws[i].n, draws[i].p); break;
      }
    }
    ++trajectory;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(draws.size()));
  describe_mix(state);
}

// ---- Normal shocks ----

void NormalSharedStream(benchmark::State& state) {
  RandomStream stream(StreamAddress{kSeed, 0, kSiteMacro, 0});
  for (auto _ : state) {
    for (int i = 0; i < kInner; ++i) benchmark::DoNotOptimize(engine::sample_normal(stream, 0.0, 1.0));
  }
  state.SetItemsProcessed(state.iterations() * kInner);
}

// As care_wf's shocks: a fresh stream per draw.
void NormalStreamPerDraw(benchmark::State& state) {
  std::uint32_t trajectory = 0;
  for (auto _ : state) {
    for (int i = 0; i < kInner; ++i) {
      RandomStream stream(
          StreamAddress{kSeed, trajectory, kSiteDemandShock + static_cast<std::uint32_t>(i & 7),
                        static_cast<std::uint32_t>(i)});
      benchmark::DoNotOptimize(engine::sample_normal(stream, 0.0, 1.0));
    }
    ++trajectory;
  }
  state.SetItemsProcessed(state.iterations() * kInner);
}

// ---- Per-trajectory parameter draws ----

std::vector<int> uncertain_parameters() {
  std::vector<int> out;
  for (int i = 0; i < models::kParamCount; ++i) {
    if (!defaults().config.params[static_cast<std::size_t>(i)].is_fixed()) out.push_back(i);
  }
  return out;
}

// One parameter's draw (param >= 0), or all uncertain ones of a trajectory (param < 0); a fresh
// stream per draw at the parameter's site, as care_wf draws them.
void ParameterDraws(benchmark::State& state, int param) {
  const auto& params = defaults().config.params;
  const std::vector<int> which = param >= 0 ? std::vector<int>{param} : uncertain_parameters();
  std::uint32_t trajectory = 0;
  for (auto _ : state) {
    for (int i : which) {
      RandomStream stream(StreamAddress{kSeed, trajectory, static_cast<std::uint32_t>(i), 0});
      benchmark::DoNotOptimize(params[static_cast<std::size_t>(i)].draw(stream));
    }
    ++trajectory;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(which.size()));
}

// ---- Every draw of one trajectory ----

struct DrawCounts {
  std::int64_t binomials = 0, normals = 0, parameters = 0;
};

// What care_wf draws in one trajectory of one stochastic scenario: R * P * 4 binomials a month;
// from month 1 two macro shocks and R demand shocks a month, plus the budget-growth shock each
// April; one draw per uncertain parameter.
DrawCounts trajectory_draw_counts() {
  const auto& d = defaults();
  DrawCounts counts;
  const auto months = static_cast<std::int64_t>(d.settings.months);
  const auto R = static_cast<std::int64_t>(d.config.R());
  const auto P = static_cast<std::int64_t>(d.config.P());
  counts.binomials = R * P * 4 * months;
  for (int t = 1; t < d.settings.months; ++t) {
    counts.normals += 2 + R + (d.settings.start.plus(t).month == 4 ? 1 : 0);
  }
  counts.parameters = static_cast<std::int64_t>(uncertain_parameters().size());
  return counts;
}

void TrajectoryDraws(benchmark::State& state) {
  const auto& d = defaults();
  const auto& params = d.config.params;
  const auto uncertain = uncertain_parameters();
  const auto R = static_cast<std::uint32_t>(d.config.R());
  const int months = d.settings.months;
  std::vector<engine::BinomialProbabilityLanes> lane_probabilities;
  engine::LaneAddresses address;
  address.seed = kSeed;
  engine::Lanes<double> out;
  std::uint32_t first = 0;
  double sum = 0;
  for (auto _ : state) {
    for (std::size_t l = 0; l < engine::kLanes; ++l) {
      address.trajectory[l] = first + static_cast<std::uint32_t>(l);
      for (int i : uncertain) {
        RandomStream stream(
            StreamAddress{kSeed, address.trajectory[l], static_cast<std::uint32_t>(i), 0});
        sum += params[static_cast<std::size_t>(i)].draw(stream);
      }
    }
    for (int t = 0; t < months; ++t) {
      address.month = static_cast<std::uint32_t>(t);
      if (t >= 1) {
        const std::uint32_t macro = d.settings.start.plus(t).month == 4 ? 3 : 2;
        for (std::uint32_t s = 0; s < macro + R; ++s) {
          address.site = s < macro ? kSiteMacro + s : kSiteDemandShock + (s - macro);
          engine::sample_standard_normal_lanes(address, out);
          for (const double x : out) sum += x;
        }
      }
      sum += draw_mix_month(address, lane_probabilities);
    }
    first += engine::kLanes;
  }
  benchmark::DoNotOptimize(sum);
  // Items are trajectory-months, as before: a batch is kLanes trajectories.
  state.SetItemsProcessed(state.iterations() * months * static_cast<std::int64_t>(engine::kLanes));
  const auto draw_counts = trajectory_draw_counts();
  state.counters["binomials_per_trajectory"] = static_cast<double>(draw_counts.binomials);
  state.counters["normals_per_trajectory"] = static_cast<double>(draw_counts.normals);
  state.counters["parameters_per_trajectory"] = static_cast<double>(draw_counts.parameters);
  state.counters["months"] = months;
}

std::string format_number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", x);
  return buffer;
}

void register_all() {
  benchmark::RegisterBenchmark("Philox/bits32", PhiloxBits32);
  benchmark::RegisterBenchmark("Philox/uniform", PhiloxUniform);
  benchmark::RegisterBenchmark("Philox/open_stream_uniform", PhiloxOpenStreamUniform);
  benchmark::RegisterBenchmark("Philox/lanes_first_block", PhiloxLanesFirstBlock);

  const std::pair<const char*, Impl> impls[] = {
      {"engine", Impl::engine}, {"engine_presetup", Impl::engine_presetup},
      {"baseline", Impl::baseline}};
  const std::pair<const char*, Impl> mix_impls[] = {
      {"engine", Impl::engine},
      {"engine_shared_probability", Impl::engine_shared_probability},
      {"engine_presetup", Impl::engine_presetup},
      {"baseline", Impl::baseline}};
  for (const auto& [name, impl] : mix_impls) {
    for (const bool per_draw : {true, false}) {
      const std::string label = std::string("BinomialMix/") + name +
                                (per_draw ? "/stream_per_draw" : "/shared_stream");
      benchmark::RegisterBenchmark(label.c_str(), BinomialMix, impl, per_draw);
    }
    if (impl == Impl::engine_shared_probability) {  // lanes: a stream per draw only
      benchmark::RegisterBenchmark("BinomialMix/engine_lanes/stream_per_draw", BinomialMix,
                                   Impl::engine_lanes, true);
    }
  }
  for (const double np : {0.5, 5.0, 50.0, 500.0}) {
    for (const double p : {0.002, 0.02, 1.0 / 12.0, 0.25, 0.5}) {
      for (const auto& [name, impl] : impls) {
        const std::string label = std::string("Binomial/") + name + "/np=" + format_number(np) +
                                  "/p=" + format_number(p);
        benchmark::RegisterBenchmark(label.c_str(), BinomialGrid, impl, np, p);
      }
    }
  }

  benchmark::RegisterBenchmark("Normal/shared_stream", NormalSharedStream);
  benchmark::RegisterBenchmark("Normal/stream_per_draw", NormalStreamPerDraw);
  for (int i : uncertain_parameters()) {
    const std::string label =
        std::string("ParameterDraws/") + models::param_key(static_cast<models::Param>(i));
    benchmark::RegisterBenchmark(label.c_str(), ParameterDraws, i);
  }
  benchmark::RegisterBenchmark("ParameterDraws/all", ParameterDraws, -1);
  benchmark::RegisterBenchmark("TrajectoryDraws", TrajectoryDraws);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
