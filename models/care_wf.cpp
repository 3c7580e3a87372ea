#include "models/care_wf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/random_stream.h"
#include "engine/samplers.h"

namespace carecast::models {

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

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double logit(double p) { return std::log(p / (1.0 - p)); }

}  // namespace

// Every random variate of one trajectory; in expected mode each is replaced by its mean. With a
// tape, the shocks and binomial flows are recorded as drawn, or replayed instead of drawn.
class CareWf::Draws {
 public:
  Draws(std::uint64_t seed, std::uint32_t trajectory, bool expected)
      : seed_(seed), trajectory_(trajectory), expected_(expected) {}

  void record_to(DrawTape* tape) { record_ = tape; }
  void replay_from(const DrawTape* tape) { replay_ = tape; }

  double parameter(const engine::Distribution& d, int param) const {
    if (expected_ || d.is_fixed()) return d.mean();
    auto stream = open(static_cast<std::uint32_t>(param), 0);
    return d.draw(stream);
  }
  // A standard normal shock (0 in expected mode).
  double shock(std::uint32_t site, int month) {
    if (replay_ != nullptr) return replay_->values.at(cursor_++);
    double x = 0.0;
    if (!expected_) {
      auto stream = open(site, month);
      x = engine::sample_normal(stream, 0.0, 1.0);
    }
    if (record_ != nullptr) record_->values.push_back(x);
    return x;
  }
  // Binomial(n, p); n * p in expected mode, where n may be fractional. p carries the sampler's
  // constants that depend on p alone, made once for every draw that shares p.
  double binomial(double n, const engine::BinomialProbability& p, std::uint32_t site, int month) {
    if (replay_ != nullptr) return replay_->values.at(cursor_++);
    double x = n * p.p;
    if (!expected_) {
      auto stream = open(site, month);
      x = static_cast<double>(engine::sample_binomial(stream, static_cast<std::int64_t>(n), p));
    }
    if (record_ != nullptr) record_->values.push_back(x);
    return x;
  }
  // Sets `out` to the probability p for binomial(): with the sampler's p-dependent constants when
  // variates are drawn; otherwise (expected mode and replay use only n * p or the tape) only p,
  // which costs nothing.
  void set_probability(engine::BinomialProbability& out, double p) const {
    if (expected_ || replay_ != nullptr) {
      out.p = p;
    } else {
      out = engine::make_binomial_probability(p);
    }
  }
  // floor(x), except in expected mode.
  double floor(double x) const { return expected_ ? x : std::floor(x); }
  std::uint32_t trajectory() const { return trajectory_; }

 private:
  engine::RandomStream open(std::uint32_t site, int month) const {
    return engine::RandomStream({seed_, trajectory_, site, static_cast<std::uint32_t>(month)});
  }
  std::uint64_t seed_;
  std::uint32_t trajectory_;
  bool expected_;
  DrawTape* record_ = nullptr;
  const DrawTape* replay_ = nullptr;
  std::size_t cursor_ = 0;
};

struct CareWf::Scratch final : engine::SimulatorScratch {
  Scratch(std::size_t R, std::size_t A, std::size_t P)
      : base(kParamCount), values(kParamCount), budget0(R), stock0_new(R * P),
        stock0_settled(R * P), population(R * A), shock(R), budget(R), stock_new(R * P),
        stock_settled(R * P), wage(P), share(P), fee(P), quit_new(P),
        quit_settled(P), fill(P), hours_per_post(P) {}

  std::vector<double> base, values;                        // parameter values
  std::vector<double> budget0, stock0_new, stock0_settled;  // initial state
  std::vector<double> population, shock, budget, stock_new, stock_settled;
  std::vector<double> wage, share, fee;
  // Per provider, this month: monthly leaving probabilities and fill probability (shared by all
  // regions), hours per post.
  std::vector<engine::BinomialProbability> quit_new, quit_settled, fill;
  std::vector<double> hours_per_post;
  // Monthly probability of progressing from new to settled staff.
  const engine::BinomialProbability progression = engine::make_binomial_probability(1.0 / 12.0);
};

// Wages, shares and fees of one month: MODEL.md steps 5 and 6, up to fee_avg.
struct MonthPrices {
  double fee_avg = 0.0;

  void compute(const CareWfConfig& c, const std::vector<double>& v, int t, double nlw, double rlw,
               double w_out, std::vector<double>& wage, std::vector<double>& share,
               std::vector<double>& fee) {
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
    const double inflation = std::pow(1.0 + at(Param::cpi), t / 12.0);
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

double client_hours(const CareWfConfig& c, const std::vector<double>& population,
                    std::size_t r, double multiplier, double shock) {
  const double shock_factor = std::exp(shock);
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

std::unique_ptr<engine::SimulatorScratch> CareWf::make_scratch() const {
  const auto& c = scenarios_[0];
  return std::make_unique<Scratch>(c.R(), c.A(), c.P());
}

// Draws every parameter of `config`, except uncertain ones with a value given (not NaN).
void CareWf::draw_parameters(const CareWfConfig& config, Draws& draws,
                             std::span<const double> given, std::span<double> values) const {
  for (int i = 0; i < kParamCount; ++i) values[i] = draws.parameter(config.params[i], i);
  for (std::size_t j = 0; j < given.size(); ++j) {
    if (!std::isnan(given[j])) values[uncertain_[j]] = given[j];
  }
}

// MODEL.md "Initial state": from the base configuration and this trajectory's base draws.
void CareWf::initial_state(const Draws& draws, Scratch& s) const {
  const auto& c = scenarios_[0];
  const auto& v = s.base;
  const auto at = [&](Param p) { return v[static_cast<int>(p)]; };
  MonthPrices prices;
  prices.compute(c, v, 0, initial_nlw(c, v), at(Param::rlw0), at(Param::outside_wage0), s.wage,
                 s.share, s.fee);
  const double care_time = at(Param::care_time);
  for (std::size_t r = 0; r < c.R(); ++r) {
    const double demand =
        client_hours(c, c.population_initial, r, at(Param::prevalence_multiplier), 0.0);
    s.budget0[r] = c.budget0.empty() ? at(Param::budget_cover0) * demand * prices.fee_avg
                                     : c.budget0[r];
    const double funded = std::min(demand, s.budget0[r] / prices.fee_avg);
    for (std::size_t p = 0; p < c.P(); ++p) {
      const double posts =
          s.share[p] * funded / (c.contract_hours[p] * care_time * kWeeksPerMonth);
      const double total = draws.floor(posts * (1.0 - at(Param::vacancy0)));
      const double fresh = draws.floor(at(Param::new_share0) * total);
      s.stock0_new[r * c.P() + p] = fresh;
      s.stock0_settled[r * c.P() + p] = total - fresh;
    }
  }
}

void CareWf::simulate_given(std::uint64_t seed, std::uint32_t trajectory,
                            engine::SimulatorScratch& scratch, std::span<double> out,
                            std::span<double> parameters, std::span<const double> given) const {
  Draws draws(seed, trajectory, mode_ == engine::Mode::expected);
  simulate(draws, scratch, out, parameters, given);
}

void CareWf::simulate_recording(std::uint64_t seed, std::uint32_t trajectory,
                                engine::SimulatorScratch& scratch, std::span<double> out,
                                std::span<double> parameters, DrawTape& tape) const {
  Draws draws(seed, trajectory, mode_ == engine::Mode::expected);
  tape.values.clear();
  draws.record_to(&tape);
  simulate(draws, scratch, out, parameters, {});
}

void CareWf::simulate_replaying(std::uint64_t seed, std::uint32_t trajectory,
                                engine::SimulatorScratch& scratch, std::span<double> out,
                                std::span<double> parameters, const DrawTape& tape) const {
  Draws draws(seed, trajectory, mode_ == engine::Mode::expected);
  draws.replay_from(&tape);
  simulate(draws, scratch, out, parameters, {});
}

void CareWf::simulate(Draws& draws, engine::SimulatorScratch& scratch, std::span<double> out,
                      std::span<double> parameters, std::span<const double> given) const {
  if (!given.empty() && given.size() != parameters.size()) {
    throw std::invalid_argument("care_wf: given parameter values must match the parameters");
  }
  auto& s = static_cast<Scratch&>(scratch);
  const std::size_t U = uncertain_.size();
  draw_parameters(scenarios_[0], draws, given.empty() ? given : given.first(U), s.base);
  initial_state(draws, s);
  const std::size_t cells = layout_.cells_per_scenario();
  for (std::size_t k = 0; k < scenarios_.size(); ++k) {
    if (k == 0) {
      s.values = s.base;
    } else {
      draw_parameters(scenarios_[k], draws, given.empty() ? given : given.subspan(k * U, U),
                      s.values);
    }
    for (std::size_t i = 0; i < U; ++i) parameters[k * U + i] = s.values[uncertain_[i]];
    run_scenario(k, draws, s, out.subspan(k * cells, cells));
  }
}

void CareWf::run_scenario(std::size_t scenario, Draws& draws, Scratch& s,
                          std::span<double> out) const {
  const auto& c = scenarios_[scenario];
  const auto& v = s.values;
  const auto at = [&](Param p) { return v[static_cast<int>(p)]; };
  const std::size_t R = c.R(), A = c.A(), P = c.P(), R1 = R + 1;
  const std::size_t plane = static_cast<std::size_t>(months_) * R1;
  const auto put = [&](Var var, int t, std::size_t r, double x) {
    out[var * plane + static_cast<std::size_t>(t) * R1 + r] = x;
  };

  // State at the start of month 0.
  s.population = c.population_initial;
  std::fill(s.shock.begin(), s.shock.end(), 0.0);
  s.budget = s.budget0;
  s.stock_new = s.stock0_new;
  s.stock_settled = s.stock0_settled;
  double xw = 0.0, z = 0.0;
  double w_out = at(Param::outside_wage0);
  double nlw = initial_nlw(c, v), rlw = at(Param::rlw0);
  std::size_t fiscal_year = 0;
  const double u_mean = at(Param::u_mean), logit_u_mean = logit(u_mean);
  double u = logistic(logit_u_mean);

  const double care_time = at(Param::care_time), oncost = at(Param::oncost);
  const double productivity_new = at(Param::productivity_new);
  const double multiplier = at(Param::prevalence_multiplier);
  const bool wage_logit = c.turnover_model == TurnoverModel::wage_logit;
  const std::vector<double>& population_growth = monthly_growth_[scenario];
  MonthPrices prices;

  for (int t = 0; t < months_; ++t) {
    if (t >= 1) {
      // 1. Macro.
      xw = at(Param::rho_w) * xw + at(Param::sd_w) * draws.shock(kSiteWageShock, t);
      w_out *= std::exp(at(Param::g_w) / 12.0 + xw);
      z = at(Param::rho_u) * z + at(Param::sd_u) * draws.shock(kSiteUnemploymentShock, t);
      u = logistic(logit_u_mean + z);
      // 2. April: wage floors and the budget.
      if (calendar_month_[t] == 4) {
        ++fiscal_year;
        nlw = fiscal_year < c.nlw_path.size() ? c.nlw_path[fiscal_year]
                                              : nlw * (1.0 + at(Param::g_nlw));
        rlw *= 1.0 + at(Param::g_rlw);
        const double growth = at(Param::budget_growth_mean) +
                              at(Param::budget_growth_sd) * draws.shock(kSiteBudgetGrowth, t);
        for (auto& b : s.budget) b *= 1.0 + growth;
      }
      // 3. Demand.
      for (std::size_t r = 0; r < R; ++r) {
        for (std::size_t a = 0; a < A; ++a) s.population[r * A + a] *= population_growth[r * A + a];
        s.shock[r] = at(Param::shock_rho) * s.shock[r] +
                     at(Param::shock_sd) * draws.shock(kSiteDemandShock + static_cast<std::uint32_t>(r), t);
      }
    }
    // 4-6. Demand hours, wages, shares and fees.
    prices.compute(c, v, t, nlw, rlw, w_out, s.wage, s.share, s.fee);
    const double unemployment = u - u_mean;
    // 7 (per provider, the same in every region): leaving and fill probabilities.
    for (std::size_t p = 0; p < P; ++p) {
      const double log_relative_wage = std::log(s.wage[p] / w_out);
      double q[2];
      for (int k = 0; k < 2; ++k) {
        double tau = c.turnover_base[p][k];
        if (wage_logit) {
          tau = logistic(logit(tau) + at(Param::beta_w) * log_relative_wage +
                         at(Param::beta_u) * unemployment);
        }
        q[k] = 1.0 - std::pow(1.0 - tau, 1.0 / 12.0);
      }
      draws.set_probability(s.quit_new[p], q[0]);
      draws.set_probability(s.quit_settled[p], q[1]);
      draws.set_probability(s.fill[p], logistic(logit(c.fill_base[p]) +
                                                at(Param::gamma_w) * log_relative_wage +
                                                at(Param::gamma_u) * unemployment));
      s.hours_per_post[p] = c.contract_hours[p] * care_time * kWeeksPerMonth;
    }

    double total_wage_weight = 0.0, total_stock = 0.0, total_start = 0.0, total_leavers = 0.0;
    double sums[kVarCount] = {};
    for (std::size_t r = 0; r < R; ++r) {
      const double demand = client_hours(c, s.population, r, multiplier, s.shock[r]);
      const double funded = std::min(demand, s.budget[r] / prices.fee_avg);
      double region[kVarCount] = {};
      double start_stock = 0.0, wage_weight = 0.0;
      for (std::size_t p = 0; p < P; ++p) {
        const std::size_t rp = r * P + p;
        const double hours_per_post = s.hours_per_post[p];
        const double posts = s.share[p] * funded / hours_per_post;
        const std::uint32_t site = kSiteFlow + static_cast<std::uint32_t>(rp) * 4;
        double& fresh = s.stock_new[rp];
        double& settled = s.stock_settled[rp];
        start_stock += fresh + settled;
        const double left_new = draws.binomial(fresh, s.quit_new[p], site + Flow::leavers_new, t);
        const double left_settled =
            draws.binomial(settled, s.quit_settled[p], site + Flow::leavers_settled, t);
        const double promoted =
            draws.binomial(fresh - left_new, s.progression, site + Flow::progression, t);
        const double vacant = std::max(
            0.0, draws.floor(posts - (fresh + settled - left_new - left_settled)));
        const double hired = draws.binomial(vacant, s.fill[p], site + Flow::hiring, t);
        fresh += hired - left_new - promoted;
        settled += promoted - left_settled;
        if (fresh < 0.0 || settled < 0.0) {
          throw std::logic_error(fmt::format(
              "care_wf: negative stock in trajectory {}, month {}, region {}, provider {} "
              "(replay with: carecast run FILE -n {} --threads 1)",
              draws.trajectory(), t, c.regions[r], c.providers[p], draws.trajectory() + 1));
        }
        // 8. Outputs of the provider.
        const double stock = fresh + settled;
        const double supplied = (fresh * productivity_new + settled) * hours_per_post;
        const double delivered = std::min(supplied, s.share[p] * funded);
        region[supplied_hours] += supplied;
        region[delivered_hours] += delivered;
        region[headcount] += stock;
        region[vacancies] += vacant - hired;
        region[leavers] += left_new + left_settled;
        region[hires] += hired;
        region[cost] += delivered * s.fee[p];
        region[leakage] += delivered * s.fee[p] * c.leakage[p];
        region[wage_bill] +=
            stock * c.contract_hours[p] * kWeeksPerMonth * s.wage[p] * (1.0 + oncost);
        wage_weight += stock * s.wage[p];
      }
      double share_wage = 0.0;
      for (std::size_t p = 0; p < P; ++p) share_wage += s.share[p] * s.wage[p];
      region[demand_hours] = demand;
      region[unmet_hours] = demand - region[delivered_hours];
      region[gap_hours] = demand - region[supplied_hours];
      region[turnover_rate] = start_stock > 0.0 ? 12.0 * region[leavers] / start_stock : 0.0;
      region[care_wage] = region[headcount] > 0.0 ? wage_weight / region[headcount] : share_wage;
      region[outside_wage] = w_out;
      region[budget] = s.budget[r];
      region[funding_gap] = demand * prices.fee_avg - s.budget[r];
      for (int var = 0; var < kVarCount; ++var) {
        put(static_cast<Var>(var), t, r, region[var]);
        sums[var] += region[var];
      }
      total_wage_weight += wage_weight;
      total_stock += region[headcount];
      total_start += start_stock;
      total_leavers += region[leavers];
      if (r + 1 == R) {
        // The Total region: sums, or weighted means for rates and wages.
        sums[turnover_rate] = total_start > 0.0 ? 12.0 * total_leavers / total_start : 0.0;
        sums[care_wage] = total_stock > 0.0 ? total_wage_weight / total_stock : share_wage;
        sums[outside_wage] = w_out;
      }
    }
    for (int var = 0; var < kVarCount; ++var) put(static_cast<Var>(var), t, R, sums[var]);
  }
}

}  // namespace carecast::models
