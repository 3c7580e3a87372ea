#include "models/care_wf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
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

  std::size_t count() const { return count_; }
  double parameter(const engine::Distribution& d, int param, std::size_t lane) const {
    if (expected_ || d.is_fixed() || lane >= count_) return d.mean();
    engine::RandomStream stream(
        {address_.seed, address_.trajectory[lane], static_cast<std::uint32_t>(param), 0});
    return d.draw(stream);
  }
  // A standard normal shock per lane (0 in expected mode).
  void shocks(std::uint32_t site, int month, Lanes<double>& x) {
    if (replay()) return take(x);
    x.fill(0.0);
    if (!expected_) {
      engine::sample_standard_normal_lanes(at(site, month), x);
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
    }
  }
  // floor(x), except in expected mode.
  double floor(double x) const { return expected_ ? x : std::floor(x); }
  std::uint32_t trajectory(std::size_t lane) const { return address_.trajectory[lane]; }

 private:
  const engine::LaneAddresses& at(std::uint32_t site, int month) {
    address_.site = site;
    address_.month = static_cast<std::uint32_t>(month);
    return address_;
  }
  bool replay() const { return replay_ != nullptr; }
  void take(Lanes<double>& x) {
    for (auto& value : x) value = replay_->values.at(cursor_++);
  }
  void keep(const Lanes<double>& x) {
    if (record_ != nullptr) record_->values.insert(record_->values.end(), x.begin(), x.end());
  }

  engine::LaneAddresses address_;
  std::size_t count_;
  bool expected_;
  DrawTape* record_ = nullptr;
  const DrawTape* replay_ = nullptr;
  std::size_t cursor_ = 0;
};

// One lane's state: a trajectory's parameters, its initial state, and where a scenario stands.
struct CareWf::Lane {
  Lane(std::size_t R, std::size_t A, std::size_t P)
      : base(kParamCount), values(kParamCount), budget0(R), stock0_new(R * P),
        stock0_settled(R * P), population(R * A), shock(R), budget(R), wage(P), share(P), fee(P) {}

  std::vector<double> base, values;                        // parameter values
  std::vector<double> budget0, stock0_new, stock0_settled;  // initial state
  std::vector<double> population, shock, budget;
  std::vector<double> wage, share, fee;
  double xw = 0.0, z = 0.0, w_out = 0.0, nlw = 0.0, rlw = 0.0, u = 0.0;
  std::size_t fiscal_year = 0;
  double logit_u_mean = 0.0;
};

struct CareWf::Scratch final : engine::SimulatorScratch {
  Scratch(std::size_t R, std::size_t A, std::size_t P)
      : stock_new(R * P), stock_settled(R * P), share(P), hours_per_post(P), fee(P), wage(P),
        region_values(R * kVarCount), quit_new(P), quit_settled(P), fill(P) {
    Lanes<double> twelfth;
    twelfth.fill(1.0 / 12.0);
    engine::make_binomial_probability_lanes(twelfth, progression);
    for (std::size_t l = 0; l < kLanes; ++l) lanes.emplace_back(R, A, P);
  }

  std::vector<Lane> lanes;
  // Staff by region and provider ([r * P + p]), every lane's side by side.
  std::vector<Lanes<double>> stock_new, stock_settled;
  // This month, per provider: every lane's share, hours per post, fee and wage.
  std::vector<Lanes<double>> share, hours_per_post, fee, wage;
  // One month's outputs, [r * kVarCount + var], every lane's.
  std::vector<Lanes<double>> region_values;
  // Per provider, this month, every lane's: monthly leaving and fill probabilities, shared by
  // all regions.
  std::vector<engine::BinomialProbabilityLanes> quit_new, quit_settled, fill;
  // Monthly probability of progressing from new to settled staff, in every lane.
  engine::BinomialProbabilityLanes progression;
};

// Wages, shares and fees of one month: MODEL.md steps 5 and 6, up to fee_avg.
struct MonthPrices {
  double fee_avg = 0.0;

  // `inflation` is (1 + cpi)^(t / 12).
  void compute(const CareWfConfig& c, const std::vector<double>& v, int t, double nlw, double rlw,
               double w_out, double inflation, std::vector<double>& wage,
               std::vector<double>& share, std::vector<double>& fee) {
    const auto at = [&](Param p) { return v[static_cast<int>(p)]; };
    double base = nlw;
    if (c.wage == WagePolicy::real_living_wage) base = std::max(nlw, rlw);
    if (c.wage == WagePolicy::parity) {
      const double phase = at(Param::phase_years);
      const double lam = phase == 0.0 ? 1.0 : std::min(1.0, t / (12.0 * phase));
      base = std::max(nlw, (1.0 - lam) * nlw + lam * at(Param::parity_ratio) * w_out);
    }
    const double transition = at(Param::transition_years);
    const double lam_s =
        c.share_target.empty() ? 0.0
        : transition == 0.0    ? 1.0
                               : std::min(1.0, t / (12.0 * transition));
    const double oncost = at(Param::oncost), care_time = at(Param::care_time);
    fee_avg = 0.0;
    for (std::size_t p = 0; p < c.P(); ++p) {
      wage[p] = base * (1.0 + c.wage_premium[p]);
      share[p] = c.share_target.empty()
                     ? c.share[p]
                     : c.share[p] + lam_s * (c.share_target[p] - c.share[p]);
      fee[p] = (wage[p] * (1.0 + oncost) / care_time + c.overhead[p] * inflation) /
               (1.0 - c.margin[p]);
      fee_avg += share[p] * fee[p];
    }
  }
};

// `shock_factor` is exp(shock) of the region's demand shock.
double client_hours(const CareWfConfig& c, const std::vector<double>& population,
                    std::size_t r, double multiplier, double shock_factor) {
  double hours = 0.0;
  for (std::size_t a = 0; a < c.A(); ++a) {
    hours += population[r * c.A() + a] * c.prevalence[a] * multiplier * shock_factor *
             c.hours_per_week[a] * kWeeksPerMonth;
  }
  return hours;
}

double initial_nlw(const CareWfConfig& c, const std::vector<double>& v) {
  return c.nlw_path.empty() ? v[static_cast<int>(Param::nlw0)] : c.nlw_path[0];
}

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

std::unique_ptr<engine::SimulatorScratch> CareWf::make_scratch() const {
  const auto& c = scenarios_[0];
  return std::make_unique<Scratch>(c.R(), c.A(), c.P());
}

// Draws every parameter of `config` for one lane, except uncertain ones with a value given (not
// NaN).
void CareWf::draw_parameters(const CareWfConfig& config, const Draws& draws, std::size_t lane,
                             std::span<const double> given, std::span<double> values) const {
  for (int i = 0; i < kParamCount; ++i) values[i] = draws.parameter(config.params[i], i, lane);
  for (std::size_t j = 0; j < given.size(); ++j) {
    if (!std::isnan(given[j])) values[uncertain_[j]] = given[j];
  }
}

// MODEL.md "Initial state": from the base configuration and the lane's base draws.
void CareWf::initial_state(const Draws& draws, Lane& lane) const {
  const auto& c = scenarios_[0];
  const auto& v = lane.base;
  const auto at = [&](Param p) { return v[static_cast<int>(p)]; };
  MonthPrices prices;
  prices.compute(c, v, 0, initial_nlw(c, v), at(Param::rlw0), at(Param::outside_wage0), 1.0,
                 lane.wage, lane.share, lane.fee);
  const double care_time = at(Param::care_time);
  for (std::size_t r = 0; r < c.R(); ++r) {
    const double demand =
        client_hours(c, c.population_initial, r, at(Param::prevalence_multiplier), 1.0);
    lane.budget0[r] = c.budget0.empty() ? at(Param::budget_cover0) * demand * prices.fee_avg
                                        : c.budget0[r];
    const double funded = std::min(demand, lane.budget0[r] / prices.fee_avg);
    for (std::size_t p = 0; p < c.P(); ++p) {
      const double posts =
          lane.share[p] * funded / (c.contract_hours[p] * care_time * kWeeksPerMonth);
      const double total = draws.floor(posts * (1.0 - at(Param::vacancy0)));
      const double fresh = draws.floor(at(Param::new_share0) * total);
      lane.stock0_new[r * c.P() + p] = fresh;
      lane.stock0_settled[r * c.P() + p] = total - fresh;
    }
  }
}

void CareWf::simulate_given(std::uint64_t seed, std::uint32_t trajectory,
                            engine::SimulatorScratch& scratch, std::span<double> out,
                            std::span<double> parameters, std::span<const double> given) const {
  if (out.size() != layout_.cells()) {
    throw std::invalid_argument("care_wf: the output span must hold one trajectory");
  }
  Draws draws(seed, trajectory, 1, mode_ == engine::Mode::expected);
  simulate(draws, scratch, engine::BatchOutput::contiguous(out, layout_.cells()), parameters,
           given);
}

void CareWf::simulate_batch(std::uint64_t seed, std::uint32_t first, std::size_t count,
                            engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                            std::span<double> parameters, std::span<const double> given) const {
  if (count == 0 || count > kLanes) {
    throw std::invalid_argument(
        fmt::format("care_wf: a batch has 1 to {} trajectories, not {}", kLanes, count));
  }
  Draws draws(seed, first, count, mode_ == engine::Mode::expected);
  simulate(draws, scratch, out, parameters, given);
}

void CareWf::simulate_recording(std::uint64_t seed, std::uint32_t first, std::size_t count,
                                engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                                std::span<double> parameters, DrawTape& tape) const {
  Draws draws(seed, first, count, mode_ == engine::Mode::expected);
  tape.values.clear();
  draws.record_to(&tape);
  simulate(draws, scratch, out, parameters, {});
}

void CareWf::simulate_replaying(std::uint64_t seed, std::uint32_t first, std::size_t count,
                                engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                                std::span<double> parameters, const DrawTape& tape) const {
  Draws draws(seed, first, count, mode_ == engine::Mode::expected);
  draws.replay_from(&tape);
  simulate(draws, scratch, out, parameters, {});
}

void CareWf::simulate(Draws& draws, engine::SimulatorScratch& scratch,
                      const engine::BatchOutput& out, std::span<double> parameters,
                      std::span<const double> given) const {
  const std::size_t count = draws.count();
  const std::size_t U = uncertain_.size(), S = scenarios_.size();
  if (out.data == nullptr || parameters.size() != count * S * U ||
      (!given.empty() && given.size() != parameters.size())) {
    throw std::invalid_argument(
        "care_wf: the output, parameter and given spans must match the batch");
  }
  auto& s = static_cast<Scratch&>(scratch);
  // The given values of lane l in scenario k (empty: draw them all).
  const auto given_for = [&](std::size_t l, std::size_t k) {
    return given.empty() || l >= count ? std::span<const double>()
                                       : given.subspan((l * S + k) * U, U);
  };
  for (std::size_t l = 0; l < kLanes; ++l) {
    Lane& lane = s.lanes[l];
    draw_parameters(scenarios_[0], draws, l, given_for(l, 0), lane.base);
    initial_state(draws, lane);
  }
  const std::size_t cells = layout_.cells_per_scenario();
  for (std::size_t k = 0; k < S; ++k) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      Lane& lane = s.lanes[l];
      if (k == 0) {
        lane.values = lane.base;
      } else {
        draw_parameters(scenarios_[k], draws, l, given_for(l, k), lane.values);
      }
      if (l < count) {
        for (std::size_t i = 0; i < U; ++i) {
          parameters[(l * S + k) * U + i] = lane.values[uncertain_[i]];
        }
      }
    }
    run_scenario(k, draws, s,
                 engine::BatchOutput{out.data + k * cells * out.cell_stride, out.cell_stride,
                                     out.trajectory_stride});
  }
}

// Runs scenario `scenario` for every lane; lane l < draws.count() writes its outputs as
// out.at(l, cell), its cells numbered from the scenario's first.
void CareWf::run_scenario(std::size_t scenario, Draws& draws, Scratch& s,
                          const engine::BatchOutput& out) const {
  const auto& c = scenarios_[scenario];
  const std::size_t R = c.R(), A = c.A(), P = c.P(), R1 = R + 1;
  const std::size_t plane = static_cast<std::size_t>(months_) * R1;
  const std::size_t count = draws.count();
  const auto put = [&](std::size_t l, Var var, int t, std::size_t r, double x) {
    out.at(l, var * plane + static_cast<std::size_t>(t) * R1 + r) = x;
  };
  const auto at = [&](const Lane& lane, Param p) { return lane.values[static_cast<int>(p)]; };
  const bool wage_logit = c.turnover_model == TurnoverModel::wage_logit;
  const std::vector<double>& population_growth = monthly_growth_[scenario];

  // State at the start of month 0.
  for (std::size_t l = 0; l < kLanes; ++l) {
    Lane& lane = s.lanes[l];
    lane.population = c.population_initial;
    std::fill(lane.shock.begin(), lane.shock.end(), 0.0);
    lane.budget = lane.budget0;
    for (std::size_t rp = 0; rp < R * P; ++rp) {
      s.stock_new[rp][l] = lane.stock0_new[rp];
      s.stock_settled[rp][l] = lane.stock0_settled[rp];
    }
    lane.xw = 0.0;
    lane.z = 0.0;
    lane.w_out = at(lane, Param::outside_wage0);
    lane.nlw = initial_nlw(c, lane.values);
    lane.rlw = at(lane, Param::rlw0);
    lane.fiscal_year = 0;
    lane.logit_u_mean = logit(at(lane, Param::u_mean));
  }
  // The lanes' exp, log and logistic go through engine/lane_math.h, all lanes at once.
  Lanes<double> x{}, y{};
  for (std::size_t l = 0; l < kLanes; ++l) x[l] = s.lanes[l].logit_u_mean;
  engine::logistic_lanes(x);
  for (std::size_t l = 0; l < kLanes; ++l) s.lanes[l].u = x[l];
  // log(1 + cpi) for the inflation factor (1 + cpi)^(t / 12) = exp(t / 12 log(1 + cpi)).
  Lanes<double> log_inflation{};
  for (std::size_t l = 0; l < kLanes; ++l) log_inflation[l] = at(s.lanes[l], Param::cpi);
  engine::log1p_lanes(log_inflation);

  Lanes<double> wage_shock{}, unemployment_shock{}, growth_shock{};
  std::vector<Lanes<double>> demand_shock(R), shock_factor(R);
  for (auto& factor : shock_factor) factor.fill(1.0);  // exp(0): no shock in month 0
  Lanes<double> n{}, left_new{}, left_settled{}, promoted{}, vacant{}, hired{};
  Lanes<double> unemployment{}, log_relative_wage{}, q{};
  MonthPrices prices;

  for (int t = 0; t < months_; ++t) {
    if (t >= 1) {
      draws.shocks(kSiteWageShock, t, wage_shock);
      draws.shocks(kSiteUnemploymentShock, t, unemployment_shock);
      const bool april = calendar_month_[t] == 4;
      if (april) draws.shocks(kSiteBudgetGrowth, t, growth_shock);
      for (std::size_t r = 0; r < R; ++r) {
        draws.shocks(kSiteDemandShock + static_cast<std::uint32_t>(r), t, demand_shock[r]);
      }
      for (std::size_t l = 0; l < kLanes; ++l) {
        Lane& lane = s.lanes[l];
        // 1. Macro.
        lane.xw = at(lane, Param::rho_w) * lane.xw + at(lane, Param::sd_w) * wage_shock[l];
        x[l] = at(lane, Param::g_w) / 12.0 + lane.xw;
        lane.z = at(lane, Param::rho_u) * lane.z + at(lane, Param::sd_u) * unemployment_shock[l];
        y[l] = lane.logit_u_mean + lane.z;
        // 2. April: wage floors and the budget.
        if (april) {
          ++lane.fiscal_year;
          lane.nlw = lane.fiscal_year < c.nlw_path.size()
                         ? c.nlw_path[lane.fiscal_year]
                         : lane.nlw * (1.0 + at(lane, Param::g_nlw));
          lane.rlw *= 1.0 + at(lane, Param::g_rlw);
          const double growth = at(lane, Param::budget_growth_mean) +
                                at(lane, Param::budget_growth_sd) * growth_shock[l];
          for (auto& b : lane.budget) b *= 1.0 + growth;
        }
        // 3. Demand.
        for (std::size_t r = 0; r < R; ++r) {
          for (std::size_t a = 0; a < A; ++a) {
            lane.population[r * A + a] *= population_growth[r * A + a];
          }
          lane.shock[r] = at(lane, Param::shock_rho) * lane.shock[r] +
                          at(lane, Param::shock_sd) * demand_shock[r][l];
          shock_factor[r][l] = lane.shock[r];
        }
      }
      engine::exp_lanes(x);
      engine::logistic_lanes(y);
      for (std::size_t l = 0; l < kLanes; ++l) {
        s.lanes[l].w_out *= x[l];
        s.lanes[l].u = y[l];
      }
      for (auto& factor : shock_factor) engine::exp_lanes(factor);
    }
    // 4-6. Wages, shares and fees, then what steps 7-8 need of them and of the parameters in
    // arrays over the lanes ([p][l]), so that every step below is one loop over the lanes.
    for (std::size_t l = 0; l < kLanes; ++l) x[l] = t / 12.0 * log_inflation[l];
    engine::exp_lanes(x);
    Lanes<double> productivity{}, oncost1{}, fee_avg{};
    for (std::size_t l = 0; l < kLanes; ++l) {
      Lane& lane = s.lanes[l];
      prices.compute(c, lane.values, t, lane.nlw, lane.rlw, lane.w_out, x[l], lane.wage,
                     lane.share, lane.fee);
      fee_avg[l] = prices.fee_avg;
      unemployment[l] = lane.u - at(lane, Param::u_mean);
      productivity[l] = at(lane, Param::productivity_new);
      oncost1[l] = 1.0 + at(lane, Param::oncost);
      for (std::size_t p = 0; p < P; ++p) {
        s.share[p][l] = lane.share[p];
        s.fee[p][l] = lane.fee[p];
        s.wage[p][l] = lane.wage[p];
        s.hours_per_post[p][l] =
            c.contract_hours[p] * at(lane, Param::care_time) * kWeeksPerMonth;
      }
    }
    // 7 (per provider, the same in every region): leaving and fill probabilities.
    for (std::size_t p = 0; p < P; ++p) {
      for (std::size_t l = 0; l < kLanes; ++l) {
        log_relative_wage[l] = s.wage[p][l] / s.lanes[l].w_out;
      }
      engine::log_lanes(log_relative_wage);
      for (int k = 0; k < 2; ++k) {
        // tau: the annual leaving rate; q = 1 - (1 - tau)^(1/12), the monthly one.
        for (std::size_t l = 0; l < kLanes; ++l) {
          const Lane& lane = s.lanes[l];
          q[l] = logit_turnover_[scenario][p][k] + at(lane, Param::beta_w) * log_relative_wage[l] +
                 at(lane, Param::beta_u) * unemployment[l];
        }
        if (wage_logit) {
          engine::logistic_lanes(q);
        } else {
          q.fill(c.turnover_base[p][k]);
        }
        const Lanes<double> tau = q;
        for (std::size_t l = 0; l < kLanes; ++l) q[l] = tau[l] < 1.0 ? -tau[l] : 0.0;
        engine::log1p_lanes(q);
        for (std::size_t l = 0; l < kLanes; ++l) q[l] /= 12.0;
        engine::exp_lanes(q);
        for (std::size_t l = 0; l < kLanes; ++l) q[l] = tau[l] < 1.0 ? 1.0 - q[l] : 1.0;
        draws.set_probabilities(q, k == 0 ? s.quit_new[p] : s.quit_settled[p]);
      }
      for (std::size_t l = 0; l < kLanes; ++l) {
        const Lane& lane = s.lanes[l];
        q[l] = logit_fill_[scenario][p] + at(lane, Param::gamma_w) * log_relative_wage[l] +
               at(lane, Param::gamma_u) * unemployment[l];
      }
      engine::logistic_lanes(q);
      draws.set_probabilities(q, s.fill[p]);
    }

    // Steps 7-8 for every region and provider, the lanes side by side. share_wage: the
    // share-weighted wage, the care wage of a region (or the Total) without staff.
    Lanes<double> total_wage_weight{}, total_stock{}, total_start{}, total_leavers{},
        share_wage{};
    for (std::size_t l = 0; l < kLanes; ++l) {
      for (std::size_t p = 0; p < P; ++p) share_wage[l] += s.share[p][l] * s.wage[p][l];
    }
    for (std::size_t r = 0; r < R; ++r) {
      // This month's outputs of region r: v[var][l].
      Lanes<double>* v = s.region_values.data() + r * kVarCount;
      Lanes<double> demand{}, funded{}, start_stock{}, wage_weight{};
      for (std::size_t l = 0; l < kLanes; ++l) {
        const Lane& lane = s.lanes[l];
        demand[l] = client_hours(c, lane.population, r, at(lane, Param::prevalence_multiplier),
                                 shock_factor[r][l]);
        funded[l] = std::min(demand[l], lane.budget[r] / fee_avg[l]);
      }
      for (int var = 0; var < kVarCount; ++var) v[var].fill(0.0);
      for (std::size_t p = 0; p < P; ++p) {
        const std::size_t rp = r * P + p;
        const std::uint32_t site = kSiteFlow + static_cast<std::uint32_t>(rp) * 4;
        Lanes<double>& fresh = s.stock_new[rp];
        Lanes<double>& settled = s.stock_settled[rp];
        const Lanes<double>& share = s.share[p];
        const Lanes<double>& hours_per_post = s.hours_per_post[p];
        const Lanes<double>& fee = s.fee[p];
        const Lanes<double>& wage = s.wage[p];
        n = fresh;
        draws.binomials(n, s.quit_new[p], site + Flow::leavers_new, t, left_new);
        n = settled;
        draws.binomials(n, s.quit_settled[p], site + Flow::leavers_settled, t, left_settled);
        for (std::size_t l = 0; l < kLanes; ++l) n[l] = fresh[l] - left_new[l];
        draws.binomials(n, s.progression, site + Flow::progression, t, promoted);
        for (std::size_t l = 0; l < kLanes; ++l) {
          const double posts = share[l] * funded[l] / hours_per_post[l];
          const double gap = posts - (fresh[l] + settled[l] - left_new[l] - left_settled[l]);
          vacant[l] = std::max(0.0, draws.floor(gap));
        }
        n = vacant;
        draws.binomials(n, s.fill[p], site + Flow::hiring, t, hired);
        bool negative = false;
        for (std::size_t l = 0; l < kLanes; ++l) {
          start_stock[l] += fresh[l] + settled[l];
          fresh[l] += hired[l] - left_new[l] - promoted[l];
          settled[l] += promoted[l] - left_settled[l];
          negative |= fresh[l] < 0.0 || settled[l] < 0.0;
        }
        if (negative) [[unlikely]] {
          for (std::size_t l = 0; l < kLanes; ++l) {
            if (fresh[l] < 0.0 || settled[l] < 0.0) {
              throw std::logic_error(fmt::format(
                  "care_wf: negative stock in trajectory {}, month {}, region {}, provider {} "
                  "(replay with: carecast run FILE -n {} --threads 1)",
                  draws.trajectory(l), t, c.regions[r], c.providers[p], draws.trajectory(l) + 1));
            }
          }
        }
        // 8. Outputs of the provider.
        for (std::size_t l = 0; l < kLanes; ++l) {
          const double stock = fresh[l] + settled[l];
          const double supplied = (fresh[l] * productivity[l] + settled[l]) * hours_per_post[l];
          const double delivered = std::min(supplied, share[l] * funded[l]);
          v[supplied_hours][l] += supplied;
          v[delivered_hours][l] += delivered;
          v[headcount][l] += stock;
          v[vacancies][l] += vacant[l] - hired[l];
          v[leavers][l] += left_new[l] + left_settled[l];
          v[hires][l] += hired[l];
          v[cost][l] += delivered * fee[l];
          v[leakage][l] += delivered * fee[l] * c.leakage[p];
          v[wage_bill][l] += stock * c.contract_hours[p] * kWeeksPerMonth * wage[l] * oncost1[l];
          wage_weight[l] += stock * wage[l];
        }
      }
      for (std::size_t l = 0; l < kLanes; ++l) {
        const Lane& lane = s.lanes[l];
        v[demand_hours][l] = demand[l];
        v[unmet_hours][l] = demand[l] - v[delivered_hours][l];
        v[gap_hours][l] = demand[l] - v[supplied_hours][l];
        v[turnover_rate][l] = start_stock[l] > 0.0 ? 12.0 * v[leavers][l] / start_stock[l] : 0.0;
        v[care_wage][l] = v[headcount][l] > 0.0 ? wage_weight[l] / v[headcount][l] : share_wage[l];
        v[outside_wage][l] = lane.w_out;
        v[budget][l] = lane.budget[r];
        v[funding_gap][l] = demand[l] * fee_avg[l] - lane.budget[r];
        total_wage_weight[l] += wage_weight[l];
        total_stock[l] += v[headcount][l];
        total_start[l] += start_stock[l];
        total_leavers[l] += v[leavers][l];
      }
      for (int var = 0; var < kVarCount; ++var) {
        for (std::size_t l = 0; l < count; ++l) put(l, static_cast<Var>(var), t, r, v[var][l]);
      }
    }
    // The Total region: sums over the regions in order, or weighted means for rates and wages.
    for (int var = 0; var < kVarCount; ++var) {
      Lanes<double> sum{};
      for (std::size_t r = 0; r < R; ++r) {
        const Lanes<double>& value = s.region_values[r * kVarCount + var];
        for (std::size_t l = 0; l < kLanes; ++l) sum[l] += value[l];
      }
      for (std::size_t l = 0; l < count; ++l) put(l, static_cast<Var>(var), t, R, sum[l]);
    }
    for (std::size_t l = 0; l < count; ++l) {
      put(l, turnover_rate, t, R,
          total_start[l] > 0.0 ? 12.0 * total_leavers[l] / total_start[l] : 0.0);
      put(l, care_wage, t, R,
          total_stock[l] > 0.0 ? total_wage_weight[l] / total_stock[l] : share_wage[l]);
      put(l, outside_wage, t, R, s.lanes[l].w_out);
    }
  }
}

}  // namespace carecast::models
