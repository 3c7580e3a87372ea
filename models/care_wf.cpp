#include "models/care_wf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "engine/lane_math.h"
#include "engine/lane_samplers.h"
#include "engine/random_stream.h"
#include "engine/samplers.h"

namespace carecast::models {

using engine::kLanes;
using engine::Lanes;

namespace {

constexpr double kWeeksPerMonth = 52.0 / 12.0;

// Output variables, in output order (MODEL.md, "Outputs of month t").
enum Var : int {
  demand_hours,
  supplied_hours,
  delivered_hours,
  unmet_hours,
  gap_hours,
  headcount,
  vacancies,
  leavers,
  hires,
  turnover_rate,
  care_wage,
  outside_wage,
  cost,
  budget,
  funding_gap,
  leakage,
  wage_bill,
  kVarCount
};

// Draw sites. Parameters use their Param index; the rest sit above them.
constexpr std::uint32_t kSiteWageShock = 1000;
constexpr std::uint32_t kSiteUnemploymentShock = 1001;
constexpr std::uint32_t kSiteBudgetGrowth = 1002;
constexpr std::uint32_t kSiteDemandShock = 2000;    // + region
constexpr std::uint32_t kSiteFlow = 1u << 20;        // + (region * P + provider) * 4 + flow
enum Flow : std::uint32_t { leavers_new, leavers_settled, progression, hiring };

double logit(double p) { return std::log(p / (1.0 - p)); }

}  // namespace

// Every random variate of a batch of trajectories, stepped together in engine::kLanes lanes: lane
// l is trajectory first + l. Lanes at and beyond `count` only pad the batch: they draw nothing
// (their parameters are the means, their shocks and flows 0), so they cost little and never fail.
// In expected mode each variate is replaced by its mean. With a tape, the shocks and binomial
// flows of every lane are recorded as drawn, or replayed instead of drawn.
class CareWf::Draws {
 public:
  Draws(std::uint64_t seed, std::uint32_t first, std::size_t count, bool expected)
      : count_(count), expected_(expected) {
    address_.seed = seed;
    for (std::size_t l = 0; l < kLanes; ++l) {
      address_.trajectory[l] = first + static_cast<std::uint32_t>(l);
    }
  }

  void record_to(DrawTape* tape) { record_ = tape; }
  void replay_from(const DrawTape* tape) { replay_ = tape; }
  void log_to(engine::DrawLog* log) { log_ = log; }

  std::size_t count() const { return count_; }
  double parameter(const engine::Distribution& d, int param, std::size_t lane) const {
    if (expected_ || d.is_fixed() || lane >= count_) return d.mean();
    const engine::StreamAddress address{address_.seed, address_.trajectory[lane],
                                        static_cast<std::uint32_t>(param), 0};
    if (log_ != nullptr) log_->parameter(d, address);
    engine::RandomStream stream(address);
    return d.draw(stream);
  }
  // A standard normal shock per lane (0 in expected mode).
  void shocks(std::uint32_t site, int month, Lanes<double>& x) {
    if (replay()) return take(x);
    x.fill(0.0);
    if (!expected_) {
      engine::sample_standard_normal_lanes(at(site, month), x);
      if (log_ != nullptr) log_->normal(address_);
      for (std::size_t l = count_; l < kLanes; ++l) x[l] = 0.0;
    }
    keep(x);
  }
  // Binomial(n[l], p[l]) per lane; n * p in expected mode, where n may be fractional. Each p
  // carries the sampler's constants that depend on p alone, made once for every draw sharing p.
  void binomials(Lanes<double>& n, const engine::BinomialProbabilityLanes& p, std::uint32_t site,
                 int month, Lanes<double>& x) {
    if (replay()) return take(x);
    if (expected_) {
      for (std::size_t l = 0; l < kLanes; ++l) x[l] = n[l] * p.p[l];
    } else {
      for (std::size_t l = count_; l < kLanes; ++l) n[l] = 0.0;
      engine::sample_binomial_lanes(at(site, month), n, p, x);
      if (log_ != nullptr) log_->binomial(address_, n, p);
    }
    keep(x);
  }
  // Sets `out` to the probabilities p for binomials(): with the sampler's p-dependent constants
  // (made for all lanes at once) when variates are drawn; otherwise (expected mode and replay
  // use only n * p or the tape) only p, which costs nothing.
  void set_probabilities(const Lanes<double>& p, engine::BinomialProbabilityLanes& out) const {
    if (expected_ || replay_ != nullptr) {
      out.p = p;
    } else {
      engine::make_binomial_probability_lanes(p, out);
      if (log_ != nullptr) log_->probabilities(p, &out);
    }
  }
  // x = floor(x) in every lane, except in expected mode.
  void floor(Lanes<double>& x) const {
    if (expected_) return;
    for (double& value : x) value = std::floor(value);
  }
  // Whether floor() floors.
  bool floors() const { return !expected_; }
  std::uint32_t trajectory(std::size_t lane) const { return address_.trajectory[lane]; }

 private:
  const engine::LaneAddresses& at(std::uint32_t site, int month) {
    address_.site = site;
    address_.month = static_cast<std::uint32_t>(month);
    return address_;
  }
  bool replay() const { return replay_ != nullptr; }
  void take(Lanes<double>& x) {
    const std::vector<double>& tape = replay_->values;
    if (tape.size() - cursor_ < kLanes) {
      throw std::out_of_range("care_wf: the draw tape ends early");
    }
    std::copy_n(tape.begin() + static_cast<std::ptrdiff_t>(cursor_), kLanes, x.begin());
    cursor_ += kLanes;
  }
  void keep(const Lanes<double>& x) {
    if (record_ != nullptr) record_->values.insert(record_->values.end(), x.begin(), x.end());
  }

  engine::LaneAddresses address_;
  std::size_t count_;
  bool expected_;
  DrawTape* record_ = nullptr;
  const DrawTape* replay_ = nullptr;
  engine::DrawLog* log_ = nullptr;
  std::size_t cursor_ = 0;
};

// Lane loops (l = 0 .. kLanes - 1) write local arrays, copied whole into the scratch after: gcc
// vectorises such a loop only where its stores cannot overlap what it reads, which it cannot
// tell of two arrays in the scratch; and a scalar loop's 8 stores, read back by one vector load,
// stall on store forwarding.

namespace {

// Every lane's value of one quantity as one gcc vector: the flows of a region and provider
// (run_scenario) are written with these, for gcc leaves those lane loops largely scalar
// (between the draws, its cost model sees lanes stored one by one and read back whole).
using LaneVector = double __attribute__((vector_size(sizeof(Lanes<double>))));
using LaneMask = std::int64_t __attribute__((vector_size(sizeof(Lanes<double>))));

LaneVector load(const Lanes<double>& x) {
  LaneVector v;
  std::memcpy(&v, x.data(), sizeof v);
  return v;
}
void store(Lanes<double>& x, const LaneVector& v) { std::memcpy(x.data(), &v, sizeof v); }
// Whether any lane of m is set: halves ORed together, in registers (a loop over the lanes moves
// each lane out of its register on its own).
bool any(const LaneMask& m) {
  static_assert(kLanes == 8);
  using Half = std::int64_t __attribute__((vector_size(4 * sizeof(std::int64_t))));
  using Quarter = std::int64_t __attribute__((vector_size(2 * sizeof(std::int64_t))));
  const Half h =
      __builtin_shufflevector(m, m, 0, 1, 2, 3) | __builtin_shufflevector(m, m, 4, 5, 6, 7);
  const Quarter q = __builtin_shufflevector(h, h, 0, 1) | __builtin_shufflevector(h, h, 2, 3);
  return (q[0] | q[1]) != 0;
}
// std::max(0.0, x) in every lane: x where 0 < x, else +0.
LaneVector at_least_zero(const LaneVector& x) { return LaneVector{} < x ? x : LaneVector{}; }
// std::max(0.0, std::floor(x)) in every lane. On (-1, 2^52) that is the truncation (through
// int64, exact there) at least 0; elsewhere x at least 0, for x is whole beyond (or at most -1,
// or NaN, each giving +0 as std::max does).
LaneVector floor_at_least_zero(const LaneVector& x) {
  const LaneMask in_range = (x > -1.0) & (x < 0x1.0p52);
  const LaneMask truncated = __builtin_convertvector(in_range ? x : LaneVector{}, LaneMask);
  return at_least_zero(in_range ? __builtin_convertvector(truncated, LaneVector) : x);
}

}  // namespace

// Every lane's value of each parameter.
struct CareWf::Parameters {
  std::array<Lanes<double>, kParamCount> lanes{};

  const Lanes<double>& operator[](Param p) const { return lanes[static_cast<int>(p)]; }
};

// Wages, shares and fees of one month in every lane: MODEL.md steps 5 and 6, up to fee_avg.
struct CareWf::MonthPrices {
  explicit MonthPrices(std::size_t P) : wage(P), share(P), fee(P) {}

  std::vector<Lanes<double>> wage, share, fee;  // [p][l]
  Lanes<double> fee_avg{};
  Lanes<double> per_fee_avg{};  // 1 / fee_avg: the regions multiply by it

  // `inflation` is (1 + cpi)^(t / 12).
  void compute(const CareWfConfig& c, const Parameters& v, int t, const Lanes<double>& nlw,
               const Lanes<double>& rlw, const Lanes<double>& w_out,
               const Lanes<double>& inflation) {
    Lanes<double> base = nlw, lam_s{};
    for (std::size_t l = 0; l < kLanes; ++l) {
      if (c.wage == WagePolicy::real_living_wage) base[l] = std::max(nlw[l], rlw[l]);
      if (c.wage == WagePolicy::parity) {
        const double phase = v[Param::phase_years][l];
        const double lam = phase == 0.0 ? 1.0 : std::min(1.0, t / (12.0 * phase));
        base[l] =
            std::max(nlw[l], (1.0 - lam) * nlw[l] + lam * v[Param::parity_ratio][l] * w_out[l]);
      }
      const double transition = v[Param::transition_years][l];
      lam_s[l] = c.share_target.empty() ? 0.0
                 : transition == 0.0    ? 1.0
                                        : std::min(1.0, t / (12.0 * transition));
    }
    // The fee's divisions, by care_time (the same for every provider) and by 1 - margin (the
    // same in every lane), made once each and multiplied by.
    Lanes<double> sum{}, labour{};
    for (std::size_t l = 0; l < kLanes; ++l) {
      labour[l] = (1.0 + v[Param::oncost][l]) / v[Param::care_time][l];
    }
    for (std::size_t p = 0; p < c.P(); ++p) {
      Lanes<double> w{}, sh{}, f{};  // provider p's, in locals (see "Lane loops" above)
      const double per_revenue = 1.0 / (1.0 - c.margin[p]);
      for (std::size_t l = 0; l < kLanes; ++l) {
        w[l] = base[l] * (1.0 + c.wage_premium[p]);
        sh[l] = c.share_target.empty()
                    ? c.share[p]
                    : c.share[p] + lam_s[l] * (c.share_target[p] - c.share[p]);
        f[l] = (w[l] * labour[l] + c.overhead[p] * inflation[l]) * per_revenue;
        sum[l] += sh[l] * f[l];
      }
      wage[p] = w;
      share[p] = sh;
      fee[p] = f;
    }
    fee_avg = sum;
    for (std::size_t l = 0; l < kLanes; ++l) per_fee_avg[l] = 1.0 / sum[l];
  }
};

// Demand hours of region r in every lane (MODEL.md step 4). `population` is the same in every
// lane; `shock_factor` is exp of each lane's demand shock of the region.
Lanes<double> client_hours(const CareWfConfig& c, const std::vector<double>& population,
                           std::size_t r, const Lanes<double>& multiplier,
                           const Lanes<double>& shock_factor) {
  const LaneVector m = load(multiplier), shock = load(shock_factor);
  LaneVector hours{};
  for (std::size_t a = 0; a < c.A(); ++a) {
    const double people = population[r * c.A() + a] * c.prevalence[a];  // the same in every lane
    hours += people * m * shock * c.hours_per_week[a] * kWeeksPerMonth;
  }
  Lanes<double> out;
  store(out, hours);
  return out;
}

Lanes<double> initial_nlw(const CareWfConfig& c, const Lanes<double>& nlw0) {
  if (c.nlw_path.empty()) return nlw0;
  Lanes<double> nlw;
  nlw.fill(c.nlw_path[0]);
  return nlw;
}

namespace {
// The flows of step 7 of one region and provider, every lane's: leavers (new, settled staff),
// progressions from new to settled, vacancies and hires.
struct ProviderFlows {
  Lanes<double> left_new{}, left_settled{}, promoted{}, vacant{}, hired{};
};
}  // namespace

// What a batch's scenarios share while one of them is set up or stepped: the base draws and the
// initial state made from them, and one month's working values. Batches stepped in turn share it.
struct CareWf::Scratch final : engine::SimulatorScratch {
  Scratch(std::size_t R, std::size_t P)
      : budget0(R), stock0_new(R * P), stock0_settled(R * P), prices(P), demand_shock(R),
        turnover(2 * P), quit(2 * P), fill_rate(P), quit_new(P), quit_settled(P), fill(P),
        flows(P) {
    Lanes<double> twelfth;
    twelfth.fill(1.0 / 12.0);
    engine::make_binomial_probability_lanes(twelfth, progression);
  }

  // Every lane's parameters of the base configuration.
  Parameters base;
  // Every lane's initial state, by region ([r]) and by region and provider ([r * P + p]).
  std::vector<Lanes<double>> budget0, stock0_new, stock0_settled;
  MonthPrices prices;
  // By region, every lane's demand shock variate of this month.
  std::vector<Lanes<double>> demand_shock;
  // This month's, every lane's, shared by all regions: per provider and tenure ([2 * p + k]) the
  // annual and monthly leaving rates; per provider the fill probability; and these as binomial
  // probabilities.
  std::vector<Lanes<double>> turnover, quit, fill_rate;
  std::vector<engine::BinomialProbabilityLanes> quit_new, quit_settled, fill;
  // Monthly probability of progressing from new to settled staff, in every lane.
  engine::BinomialProbabilityLanes progression;
  // Per provider, this month's flows in the region being stepped.
  std::vector<ProviderFlows> flows;
};

// Where one scenario of a batch stands at the start of a month, every lane's.
struct CareWf::ScenarioState {
  ScenarioState(std::size_t R, std::size_t P)
      : budget(R), shock(R), shock_factor(R), stock_new(R * P), stock_settled(R * P),
        hours_per_post(P), posts_per_hour(P) {}

  // The scenario's parameters.
  Parameters values;
  // The population ([r * A + a]) is one for all lanes: every lane starts from
  // population.initial and grows by the same factors.
  std::vector<double> population;
  // By region: budget, log demand shock and its exp.
  std::vector<Lanes<double>> budget, shock, shock_factor;
  // Staff by region and provider ([r * P + p]).
  std::vector<Lanes<double>> stock_new, stock_settled;
  // Per provider, the hours of one post in a month, fixed within a scenario, and its inverse,
  // which the regions multiply by.
  std::vector<Lanes<double>> hours_per_post, posts_per_hour;
  // The macro state (MODEL.md step 1): wage and unemployment AR(1) terms, the outside wage,
  // unemployment, the wage floors, and the fiscal years begun (the same in every lane).
  Lanes<double> xw{}, z{}, w_out{}, u{}, nlw{}, rlw{};
  std::size_t fiscal_year = 0;
  // What the months need of the parameters alone, made once: logit of u_mean, log(1 + cpi)
  // (the inflation factor (1 + cpi)^(t / 12) is exp(t / 12 log(1 + cpi))) and 1 + oncost.
  Lanes<double> logit_u_mean{}, log_inflation{}, oncost1{};
};

// A batch stepped month by month: its draws and every scenario's state.
struct CareWf::Batch final : engine::BatchState {
  std::optional<Draws> draws;
  std::vector<ScenarioState> scenarios;
};

namespace {

// Output variables in output order: name, units, name in words, which direction is better.
struct VariableInfo {
  const char* name;
  const char* units;
  const char* long_name;
  int better;  // +1 higher, -1 lower, 0 neither
};
constexpr VariableInfo kVariables[kVarCount] = {
    {"demand_hours", "hours per month", "Care hours needed", 0},
    {"supplied_hours", "hours per month", "Care hours the workforce can supply", +1},
    {"delivered_hours", "hours per month", "Care hours delivered", +1},
    {"unmet_hours", "hours per month", "Unmet care hours", -1},
    {"gap_hours", "hours per month", "Workforce gap (demand - supply)", -1},
    {"headcount", "people", "Care workers employed", +1},
    {"vacancies", "posts", "Funded posts unfilled", -1},
    {"leavers", "people per month", "Care workers leaving", -1},
    {"hires", "people per month", "Care workers hired", 0},
    {"turnover_rate", "per year", "Annualised turnover rate", -1},
    {"care_wage", "GBP per hour", "Mean hourly care wage", +1},
    {"outside_wage", "GBP per hour", "Outside-option (retail) hourly wage", 0},
    {"cost", "GBP per month", "Spend on delivered care", -1},
    {"budget", "GBP per month", "Care budget", 0},
    {"funding_gap", "GBP per month", "Funding gap (cost of all demand - budget)", -1},
    {"leakage", "GBP per month", "Spend leaving the local economy", -1},
    {"wage_bill", "GBP per month", "Care wage bill incl. on-costs", +1},
};

}  // namespace

const std::vector<std::string>& CareWf::variables() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& v : kVariables) out.push_back(v.name);
    return out;
  }();
  return names;
}

CareWf::CareWf(std::vector<std::string> scenario_names, std::vector<CareWfConfig> scenarios,
               engine::Mode mode, engine::YearMonth start, int months)
    : scenarios_(std::move(scenarios)), mode_(mode), months_(months) {
  if (scenarios_.empty() || scenario_names.size() != scenarios_.size()) {
    throw std::invalid_argument("CareWf: one name per scenario, base first");
  }
  for (int t = 0; t < months_; ++t) calendar_month_.push_back(start.plus(t).month);
  for (const auto& c : scenarios_) {
    auto& factors = monthly_growth_.emplace_back();
    for (double g : c.population_growth) factors.push_back(std::pow(1.0 + g, 1.0 / 12.0));
    auto& turnover = logit_turnover_.emplace_back();
    auto& fill = logit_fill_.emplace_back();
    for (std::size_t p = 0; p < c.P(); ++p) {
      turnover.push_back({logit(c.turnover_base[p][0]), logit(c.turnover_base[p][1])});
      fill.push_back(logit(c.fill_base[p]));
    }
  }
  for (int i = 0; i < kParamCount; ++i) {
    const bool uncertain = std::any_of(scenarios_.begin(), scenarios_.end(),
                                       [&](const CareWfConfig& c) { return !c.params[i].is_fixed(); });
    if (uncertain && mode_ == engine::Mode::stochastic) uncertain_.push_back(i);
  }
  layout_.scenarios = std::move(scenario_names);
  layout_.variables = variables();
  for (const auto& v : kVariables) {
    layout_.units.push_back(v.units);
    layout_.long_names.push_back(v.long_name);
    layout_.better.push_back(v.better);
  }
  layout_.regions = scenarios_[0].regions;
  layout_.regions.push_back("Total");
  for (int i : uncertain_) layout_.parameters.push_back(param_key(static_cast<Param>(i)));
  layout_.months = months_;
}

std::size_t CareWf::batch_size() const { return kLanes; }

void CareWf::check_count(std::size_t count) {
  if (count == 0 || count > kLanes) {
    throw std::invalid_argument(
        fmt::format("care_wf: a batch has 1 to {} trajectories, not {}", kLanes, count));
  }
}

std::unique_ptr<engine::SimulatorScratch> CareWf::make_scratch() const {
  const auto& c = scenarios_[0];
  return std::make_unique<Scratch>(c.R(), c.P());
}

// Draws every parameter of `config` for one lane, except uncertain ones with a value given (not
// NaN).
void CareWf::draw_parameters(const CareWfConfig& config, const Draws& draws, std::size_t lane,
                             std::span<const double> given, Parameters& values) const {
  for (int i = 0; i < kParamCount; ++i) {
    values.lanes[i][lane] = draws.parameter(config.params[i], i, lane);
  }
  for (std::size_t j = 0; j < given.size(); ++j) {
    if (!std::isnan(given[j])) values.lanes[uncertain_[j]][lane] = given[j];
  }
}

// MODEL.md "Initial state" of every lane: from the base configuration and the lanes' base draws.
void CareWf::initial_state(const Draws& draws, Scratch& s) const {
  const auto& c = scenarios_[0];
  const auto at = [&](Param p) -> const Lanes<double>& { return s.base[p]; };
  Lanes<double> one;
  one.fill(1.0);  // month 0: no inflation yet, no demand shock
  MonthPrices& prices = s.prices;
  prices.compute(c, s.base, 0, initial_nlw(c, at(Param::nlw0)), at(Param::rlw0),
                 at(Param::outside_wage0), one);
  for (std::size_t r = 0; r < c.R(); ++r) {
    const Lanes<double> demand =
        client_hours(c, c.population_initial, r, at(Param::prevalence_multiplier), one);
    Lanes<double> funded{};
    for (std::size_t l = 0; l < kLanes; ++l) {
      s.budget0[r][l] = c.budget0.empty()
                            ? at(Param::budget_cover0)[l] * demand[l] * prices.fee_avg[l]
                            : c.budget0[r];
      funded[l] = std::min(demand[l], s.budget0[r][l] / prices.fee_avg[l]);
    }
    for (std::size_t p = 0; p < c.P(); ++p) {
      Lanes<double> total{}, fresh{};
      for (std::size_t l = 0; l < kLanes; ++l) {
        const double posts = prices.share[p][l] * funded[l] /
                             (c.contract_hours[p] * at(Param::care_time)[l] * kWeeksPerMonth);
        total[l] = posts * (1.0 - at(Param::vacancy0)[l]);
      }
      draws.floor(total);
      for (std::size_t l = 0; l < kLanes; ++l) fresh[l] = at(Param::new_share0)[l] * total[l];
      draws.floor(fresh);
      for (std::size_t l = 0; l < kLanes; ++l) {
        s.stock0_new[r * c.P() + p][l] = fresh[l];
        s.stock0_settled[r * c.P() + p][l] = total[l] - fresh[l];
      }
    }
  }
}

void CareWf::simulate_given(std::uint64_t seed, std::uint32_t trajectory,
                            engine::SimulatorScratch& scratch, std::span<double> out,
                            std::span<double> parameters, std::span<const double> given) const {
  if (out.size() != layout_.cells()) {
    throw std::invalid_argument("care_wf: the output span must hold one trajectory");
  }
  simulate(Draws(seed, trajectory, 1, mode_ == engine::Mode::expected), scratch,
           engine::BatchOutput::contiguous(out, layout_.cells()), parameters, given);
}

void CareWf::simulate_batch(std::uint64_t seed, std::uint32_t first, std::size_t count,
                            engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                            std::span<double> parameters, std::span<const double> given) const {
  check_count(count);
  simulate(Draws(seed, first, count, mode_ == engine::Mode::expected), scratch, out, parameters,
           given);
}

void CareWf::simulate_recording(std::uint64_t seed, std::uint32_t first, std::size_t count,
                                engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                                std::span<double> parameters, DrawTape& tape) const {
  Draws draws(seed, first, count, mode_ == engine::Mode::expected);
  tape.values.clear();
  draws.record_to(&tape);
  simulate(std::move(draws), scratch, out, parameters, {});
}

void CareWf::simulate_replaying(std::uint64_t seed, std::uint32_t first, std::size_t count,
                                engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                                std::span<double> parameters, const DrawTape& tape) const {
  Draws draws(seed, first, count, mode_ == engine::Mode::expected);
  draws.replay_from(&tape);
  simulate(std::move(draws), scratch, out, parameters, {});
}

void CareWf::simulate_logging(std::uint64_t seed, std::uint32_t first, std::size_t count,
                              engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                              std::span<double> parameters, engine::DrawLog& log) const {
  check_count(count);
  Draws draws(seed, first, count, mode_ == engine::Mode::expected);
  draws.log_to(&log);
  simulate(std::move(draws), scratch, out, parameters, {});
}

void CareWf::simulate(Draws draws, engine::SimulatorScratch& scratch,
                      const engine::BatchOutput& out, std::span<double> parameters,
                      std::span<const double> given) const {
  Batch batch;
  begin(std::move(draws), scratch, batch, parameters, given);
  // Cell (variable, month, region) of scenario k at out's cell
  // k * cells_per_scenario + (variable * months + month) * regions + region (OutputLayout::index).
  const std::size_t regions = layout_.regions.size();
  const Cells cells{out, layout_.cells_per_scenario(), static_cast<std::size_t>(months_) * regions,
                    regions};
  for (int t = 0; t < months_; ++t) step_month(scratch, batch, t, cells);
}

std::unique_ptr<engine::BatchState> CareWf::make_batch_state() const {
  return std::make_unique<Batch>();
}

void CareWf::begin_batch(std::uint64_t seed, std::uint32_t first, std::size_t count,
                         engine::SimulatorScratch& scratch, engine::BatchState& state,
                         std::span<double> parameters, std::span<const double> given) const {
  check_count(count);
  begin(Draws(seed, first, count, mode_ == engine::Mode::expected), scratch,
        dynamic_cast<Batch&>(state), parameters, given);
}

void CareWf::step(engine::SimulatorScratch& scratch, engine::BatchState& state, int month,
                  const engine::BatchOutput& out) const {
  if (month < 0 || month >= months_) throw std::out_of_range("care_wf: no such month");
  // Cell (variable, region) of scenario k at out's cell OutputLayout::month_index(k, variable,
  // region).
  const std::size_t regions = layout_.regions.size();
  step_month(scratch, dynamic_cast<Batch&>(state), month,
             Cells{out, kVarCount * regions, regions, 0});
}

void CareWf::begin(Draws draws, engine::SimulatorScratch& scratch, Batch& batch,
                   std::span<double> parameters, std::span<const double> given) const {
  const std::size_t count = draws.count();
  const std::size_t U = uncertain_.size(), S = scenarios_.size();
  if (parameters.size() != count * S * U ||
      (!given.empty() && given.size() != parameters.size())) {
    throw std::invalid_argument("care_wf: the parameter and given spans must match the batch");
  }
  auto& s = static_cast<Scratch&>(scratch);
  batch.draws = std::move(draws);
  const Draws& d = *batch.draws;
  // The given values of lane l in scenario k (empty: draw them all).
  const auto given_for = [&](std::size_t l, std::size_t k) {
    return given.empty() || l >= count ? std::span<const double>()
                                       : given.subspan((l * S + k) * U, U);
  };
  for (std::size_t l = 0; l < kLanes; ++l) {
    draw_parameters(scenarios_[0], d, l, given_for(l, 0), s.base);
  }
  initial_state(d, s);
  if (batch.scenarios.size() != S) {
    batch.scenarios.assign(S, ScenarioState(scenarios_[0].R(), scenarios_[0].P()));
  }
  for (std::size_t k = 0; k < S; ++k) {
    ScenarioState& st = batch.scenarios[k];
    if (k == 0) {
      st.values = s.base;
    } else {
      for (std::size_t l = 0; l < kLanes; ++l) {
        draw_parameters(scenarios_[k], d, l, given_for(l, k), st.values);
      }
    }
    for (std::size_t l = 0; l < count; ++l) {
      for (std::size_t i = 0; i < U; ++i) {
        parameters[(l * S + k) * U + i] = st.values.lanes[uncertain_[i]][l];
      }
    }
    start_scenario(k, s, st);
  }
}

void CareWf::step_month(engine::SimulatorScratch& scratch, Batch& batch, int t,
                        const Cells& cells) const {
  if (cells.out.data == nullptr) throw std::invalid_argument("care_wf: no output");
  if (!batch.draws) throw std::logic_error("care_wf: step() before begin_batch()");
  auto& s = static_cast<Scratch&>(scratch);
  for (std::size_t k = 0; k < scenarios_.size(); ++k) {
    engine::BatchOutput out = cells.out;
    out.data += k * cells.scenario * out.cell_stride;
    step_scenario(k, *batch.draws, s, batch.scenarios[k], t,
                  Cells{out, cells.scenario, cells.variable, cells.month});
  }
}

// MODEL.md's state at the start of month 0 of scenario `scenario` for every lane, from the
// batch's initial state in `s` and the scenario's parameters in `st.values`.
void CareWf::start_scenario(std::size_t scenario, const Scratch& s, ScenarioState& st) const {
  const auto& c = scenarios_[scenario];
  const auto at = [&](Param p) -> const Lanes<double>& { return st.values[p]; };
  st.population = c.population_initial;
  st.budget = s.budget0;
  st.stock_new = s.stock0_new;
  st.stock_settled = s.stock0_settled;
  for (auto& shock : st.shock) shock.fill(0.0);
  for (auto& factor : st.shock_factor) factor.fill(1.0);  // exp(0): no shock in month 0
  st.xw = {};
  st.z = {};
  st.w_out = at(Param::outside_wage0);
  st.rlw = at(Param::rlw0);
  st.nlw = initial_nlw(c, at(Param::nlw0));
  st.fiscal_year = 0;
  for (std::size_t l = 0; l < kLanes; ++l) st.logit_u_mean[l] = logit(at(Param::u_mean)[l]);
  st.u = st.logit_u_mean;
  engine::logistic_lanes(st.u);
  st.log_inflation = at(Param::cpi);
  engine::log1p_lanes(st.log_inflation);
  for (std::size_t l = 0; l < kLanes; ++l) st.oncost1[l] = 1.0 + at(Param::oncost)[l];
  for (std::size_t p = 0; p < c.P(); ++p) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      st.hours_per_post[p][l] = c.contract_hours[p] * at(Param::care_time)[l] * kWeeksPerMonth;
      st.posts_per_hour[p][l] = 1.0 / st.hours_per_post[p][l];
    }
  }
}

// Runs month t of scenario `scenario` for every lane from `st`, leaving `st` at the start of
// month t + 1; lane l < draws.count() writes variable v of region r as
// cells.out.at(l, v * cells.variable + t * cells.month + r).
void CareWf::step_scenario(std::size_t scenario, Draws& draws, Scratch& s, ScenarioState& st,
                           int t, const Cells& cells) const {
  const auto& c = scenarios_[scenario];
  const std::size_t R = c.R(), P = c.P();
  const std::size_t count = draws.count();
  const engine::BatchOutput& out = cells.out;
  const bool lines = count == kLanes && out.trajectory_stride == 1;
  // Every lane's value of variable `var` in region r.
  const auto put = [&](Var var, std::size_t r, const Lanes<double>& x) {
    const std::size_t cell = var * cells.variable + static_cast<std::size_t>(t) * cells.month + r;
    if (lines) {
      std::memcpy(&out.at(0, cell), x.data(), sizeof x);
    } else {
      for (std::size_t l = 0; l < count; ++l) out.at(l, cell) = x[l];
    }
  };
  const auto at = [&](Param p) -> const Lanes<double>& { return st.values[p]; };
  const bool wage_logit = c.turnover_model == TurnoverModel::wage_logit;
  const std::vector<double>& population_growth = monthly_growth_[scenario];
  // Every lane's state is an array over the lanes, so that each step below is a loop over them
  // (and their exp, log and logistic go through engine/lane_math.h, all lanes at once).
  const Lanes<double>& productivity = at(Param::productivity_new);
  Lanes<double> x{}, y{}, wage_shock{}, unemployment_shock{}, growth_shock{};
  Lanes<double> n{};
  Lanes<double> unemployment{};
  MonthPrices& prices = s.prices;
  Lanes<double>& xw = st.xw;
  Lanes<double>& z = st.z;
  Lanes<double>& w_out = st.w_out;
  Lanes<double>& u = st.u;
  Lanes<double>& nlw = st.nlw;
  Lanes<double>& rlw = st.rlw;
  const Lanes<double>& logit_u_mean = st.logit_u_mean;
  const Lanes<double>& log_inflation = st.log_inflation;
  const Lanes<double>& oncost1 = st.oncost1;
  if (t >= 1) {
    draws.shocks(kSiteWageShock, t, wage_shock);
    draws.shocks(kSiteUnemploymentShock, t, unemployment_shock);
    const bool april = calendar_month_[t] == 4;
    if (april) draws.shocks(kSiteBudgetGrowth, t, growth_shock);
    for (std::size_t r = 0; r < R; ++r) {
      draws.shocks(kSiteDemandShock + static_cast<std::uint32_t>(r), t, s.demand_shock[r]);
    }
    // 1. Macro.
    for (std::size_t l = 0; l < kLanes; ++l) {
      xw[l] = at(Param::rho_w)[l] * xw[l] + at(Param::sd_w)[l] * wage_shock[l];
      x[l] = at(Param::g_w)[l] / 12.0 + xw[l];
      z[l] = at(Param::rho_u)[l] * z[l] + at(Param::sd_u)[l] * unemployment_shock[l];
      y[l] = logit_u_mean[l] + z[l];
    }
    // 2. April: wage floors and the budget.
    if (april) {
      ++st.fiscal_year;
      Lanes<double> growth{};
      for (std::size_t l = 0; l < kLanes; ++l) {
        nlw[l] = st.fiscal_year < c.nlw_path.size() ? c.nlw_path[st.fiscal_year]
                                                 : nlw[l] * (1.0 + at(Param::g_nlw)[l]);
        rlw[l] *= 1.0 + at(Param::g_rlw)[l];
        growth[l] =
            at(Param::budget_growth_mean)[l] + at(Param::budget_growth_sd)[l] * growth_shock[l];
      }
      for (auto& b : st.budget) {
        for (std::size_t l = 0; l < kLanes; ++l) b[l] *= 1.0 + growth[l];
      }
    }
    // 3. Demand.
    for (std::size_t i = 0; i < st.population.size(); ++i) st.population[i] *= population_growth[i];
    for (std::size_t r = 0; r < R; ++r) {
      Lanes<double> shock{};
      for (std::size_t l = 0; l < kLanes; ++l) {
        shock[l] = at(Param::shock_rho)[l] * st.shock[r][l] +
                   at(Param::shock_sd)[l] * s.demand_shock[r][l];
      }
      st.shock[r] = shock;
      st.shock_factor[r] = shock;
    }
    engine::exp_lanes(x);
    engine::logistic_lanes(y);
    for (std::size_t l = 0; l < kLanes; ++l) w_out[l] *= x[l];
    u = y;
    for (auto& factor : st.shock_factor) engine::exp_lanes(factor);
  }
  // 4-6. Wages, shares and fees.
  for (std::size_t l = 0; l < kLanes; ++l) x[l] = t / 12.0 * log_inflation[l];
  engine::exp_lanes(x);
  prices.compute(c, st.values, t, nlw, rlw, w_out, x);
  for (std::size_t l = 0; l < kLanes; ++l) unemployment[l] = u[l] - at(Param::u_mean)[l];
  // 7 (per provider, the same in every region): leaving and fill probabilities. Each stage
  // runs for every provider before the next, so that the lanes' exp and log of different
  // providers overlap: one provider's chain (log, logistic, log1p, exp) waits on each result.
  for (std::size_t p = 0; p < P; ++p) {
    Lanes<double> log_relative_wage{};
    for (std::size_t l = 0; l < kLanes; ++l) log_relative_wage[l] = prices.wage[p][l] / w_out[l];
    engine::log_lanes(log_relative_wage);
    for (std::size_t k = 0; k < 2; ++k) {
      Lanes<double> logit_tau{};
      for (std::size_t l = 0; l < kLanes; ++l) {
        logit_tau[l] = logit_turnover_[scenario][p][k] +
                       at(Param::beta_w)[l] * log_relative_wage[l] +
                       at(Param::beta_u)[l] * unemployment[l];
      }
      s.turnover[2 * p + k] = logit_tau;
    }
    Lanes<double> logit_fill{};
    for (std::size_t l = 0; l < kLanes; ++l) {
      logit_fill[l] = logit_fill_[scenario][p] + at(Param::gamma_w)[l] * log_relative_wage[l] +
                      at(Param::gamma_u)[l] * unemployment[l];
    }
    s.fill_rate[p] = logit_fill;
  }
  // tau: the annual leaving rates; q = 1 - (1 - tau)^(1/12), the monthly ones.
  for (std::size_t i = 0; i < 2 * P; ++i) {
    if (wage_logit) {
      engine::logistic_lanes(s.turnover[i]);
    } else {
      s.turnover[i].fill(c.turnover_base[i / 2][i % 2]);
    }
  }
  for (auto& fill : s.fill_rate) engine::logistic_lanes(fill);
  for (std::size_t i = 0; i < 2 * P; ++i) {
    const Lanes<double>& tau = s.turnover[i];
    Lanes<double> q{};
    for (std::size_t l = 0; l < kLanes; ++l) q[l] = tau[l] < 1.0 ? -tau[l] : 0.0;
    s.quit[i] = q;
  }
  for (auto& q : s.quit) engine::log1p_lanes(q);
  for (auto& q : s.quit) {
    for (std::size_t l = 0; l < kLanes; ++l) q[l] /= 12.0;
  }
  for (auto& q : s.quit) engine::exp_lanes(q);
  for (std::size_t i = 0; i < 2 * P; ++i) {
    const Lanes<double>& tau = s.turnover[i];
    Lanes<double> q{};
    for (std::size_t l = 0; l < kLanes; ++l) q[l] = tau[l] < 1.0 ? 1.0 - s.quit[i][l] : 1.0;
    s.quit[i] = q;
  }
  for (std::size_t p = 0; p < P; ++p) {
    draws.set_probabilities(s.quit[2 * p], s.quit_new[p]);
    draws.set_probabilities(s.quit[2 * p + 1], s.quit_settled[p]);
    draws.set_probabilities(s.fill_rate[p], s.fill[p]);
  }

  // Steps 7-8 for every region and provider, the lanes side by side. share_wage: the
  // share-weighted wage, the care wage of a region (or the Total) without staff.
  Lanes<double> share_wage{};
  for (std::size_t p = 0; p < P; ++p) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      share_wage[l] += prices.share[p][l] * prices.wage[p][l];
    }
  }
  // The Total region: sums over the regions in order, or weighted means for rates and wages.
  std::array<Lanes<double>, kVarCount> total{};
  Lanes<double> total_wage_weight{}, total_start{};
  for (std::size_t r = 0; r < R; ++r) {
    const Lanes<double> demand =
        client_hours(c, st.population, r, at(Param::prevalence_multiplier), st.shock_factor[r]);
    const LaneVector demand_v = load(demand);
    const LaneVector affordable = load(st.budget[r]) * load(prices.per_fee_avg);
    const LaneVector funded = affordable < demand_v ? affordable : demand_v;  // std::min
    // Sums over the providers.
    LaneVector supplied_sum{}, delivered_sum{}, headcount_sum{}, vacancies_sum{}, leavers_sum{},
        hires_sum{}, cost_sum{}, leakage_sum{}, wage_bill_sum{}, start_stock{}, wage_weight{};
    const bool floors = draws.floors();
    // Step 7's flows, stage by stage for every provider: a provider's flows depend on each other
    // (progression on the new staff who leave, hiring on the vacancies left by both leaving
    // flows), providers' not at all, so each stage's draws need not wait for each other.
    // Every variate has its own stream address, so the order of the draws changes nothing.
    const auto site = [&](std::size_t p, Flow flow) {
      return kSiteFlow + static_cast<std::uint32_t>(r * P + p) * 4 + flow;
    };
    for (std::size_t p = 0; p < P; ++p) {
      n = st.stock_new[r * P + p];
      draws.binomials(n, s.quit_new[p], site(p, Flow::leavers_new), t, s.flows[p].left_new);
      n = st.stock_settled[r * P + p];
      draws.binomials(n, s.quit_settled[p], site(p, Flow::leavers_settled), t,
                      s.flows[p].left_settled);
    }
    for (std::size_t p = 0; p < P; ++p) {
      const std::size_t rp = r * P + p;
      ProviderFlows& f = s.flows[p];
      const LaneVector fresh0 = load(st.stock_new[rp]), settled0 = load(st.stock_settled[rp]);
      const LaneVector gone_new = load(f.left_new), gone_settled = load(f.left_settled);
      store(n, fresh0 - gone_new);
      draws.binomials(n, s.progression, site(p, Flow::progression), t, f.promoted);
      // Vacancies: posts less the staff who stay, floored where draws.floor() floors, then at
      // least 0.
      const LaneVector short_of = load(prices.share[p]) * funded * load(st.posts_per_hour[p]) -
                                  (fresh0 + settled0 - gone_new - gone_settled);
      store(f.vacant, floors ? floor_at_least_zero(short_of) : at_least_zero(short_of));
    }
    for (std::size_t p = 0; p < P; ++p) {
      ProviderFlows& f = s.flows[p];
      n = f.vacant;
      draws.binomials(n, s.fill[p], site(p, Flow::hiring), t, f.hired);
    }
    for (std::size_t p = 0; p < P; ++p) {
      const std::size_t rp = r * P + p;
      const ProviderFlows& f = s.flows[p];
      const LaneVector fresh0 = load(st.stock_new[rp]), settled0 = load(st.stock_settled[rp]);
      const LaneVector share = load(prices.share[p]), hours_per_post = load(st.hours_per_post[p]);
      const LaneVector gone_new = load(f.left_new), gone_settled = load(f.left_settled);
      const LaneVector vacant = load(f.vacant);
      const LaneVector up = load(f.promoted), in = load(f.hired);
      start_stock += fresh0 + settled0;
      const LaneVector fresh = fresh0 + (in - gone_new - up);
      const LaneVector settled = settled0 + (up - gone_settled);
      if (any((fresh < 0.0) | (settled < 0.0))) [[unlikely]] {
        for (std::size_t l = 0; l < kLanes; ++l) {
          if (fresh[l] < 0.0 || settled[l] < 0.0) {
            throw std::logic_error(fmt::format(
                "care_wf: negative stock in trajectory {}, month {}, region {}, provider {} "
                "(replay with: carecast run FILE -n {} --threads 1)",
                draws.trajectory(l), t, c.regions[r], c.providers[p], draws.trajectory(l) + 1));
          }
        }
      }
      store(st.stock_new[rp], fresh);
      store(st.stock_settled[rp], settled);
      // 8. Outputs of the provider.
      const LaneVector fee = load(prices.fee[p]), wage = load(prices.wage[p]);
      const LaneVector stock = fresh + settled;
      const LaneVector supplied = (fresh * load(productivity) + settled) * hours_per_post;
      const LaneVector funded_share = share * funded;
      const LaneVector delivered = funded_share < supplied ? funded_share : supplied;  // std::min
      supplied_sum += supplied;
      delivered_sum += delivered;
      headcount_sum += stock;
      vacancies_sum += vacant - in;
      leavers_sum += gone_new + gone_settled;
      hires_sum += in;
      cost_sum += delivered * fee;
      leakage_sum += delivered * fee * c.leakage[p];
      wage_bill_sum += stock * c.contract_hours[p] * kWeeksPerMonth * wage * load(oncost1);
      wage_weight += stock * wage;
    }
    // This month's outputs of region r, v[var][l]: every variable set here.
    std::array<Lanes<double>, kVarCount> v;
    for (std::size_t l = 0; l < kLanes; ++l) {
      v[demand_hours][l] = demand[l];
      v[supplied_hours][l] = supplied_sum[l];
      v[delivered_hours][l] = delivered_sum[l];
      v[unmet_hours][l] = demand[l] - delivered_sum[l];
      v[gap_hours][l] = demand[l] - supplied_sum[l];
      v[headcount][l] = headcount_sum[l];
      v[vacancies][l] = vacancies_sum[l];
      v[leavers][l] = leavers_sum[l];
      v[hires][l] = hires_sum[l];
      v[turnover_rate][l] = start_stock[l] > 0.0 ? 12.0 * leavers_sum[l] / start_stock[l] : 0.0;
      v[care_wage][l] =
          headcount_sum[l] > 0.0 ? wage_weight[l] / headcount_sum[l] : share_wage[l];
      v[outside_wage][l] = w_out[l];
      v[cost][l] = cost_sum[l];
      v[budget][l] = st.budget[r][l];
      v[funding_gap][l] = demand[l] * prices.fee_avg[l] - st.budget[r][l];
      v[leakage][l] = leakage_sum[l];
      v[wage_bill][l] = wage_bill_sum[l];
      total_wage_weight[l] += wage_weight[l];
      total_start[l] += start_stock[l];
    }
    for (int var = 0; var < kVarCount; ++var) {
      for (std::size_t l = 0; l < kLanes; ++l) total[var][l] += v[var][l];
      put(static_cast<Var>(var), r, v[var]);
    }
  }
  for (std::size_t l = 0; l < kLanes; ++l) {
    total[turnover_rate][l] =
        total_start[l] > 0.0 ? 12.0 * total[leavers][l] / total_start[l] : 0.0;
    total[care_wage][l] =
        total[headcount][l] > 0.0 ? total_wage_weight[l] / total[headcount][l] : share_wage[l];
    total[outside_wage][l] = w_out[l];
  }
  for (int var = 0; var < kVarCount; ++var) put(static_cast<Var>(var), R, total[var]);
}

}  // namespace carecast::models
