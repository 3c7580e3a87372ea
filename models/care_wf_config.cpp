#include "models/care_wf_config.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "engine/config_reader.h"

namespace carecast::models {

using engine::Interval;

namespace {

struct ParamSpec {
  const char* key;
  Interval allowed;
};

// The allowed range of each parameter, in Param order.
const std::array<ParamSpec, kParamCount>& param_specs() {
  static const std::array<ParamSpec, kParamCount> specs = {{
      {"demand.prevalence_multiplier", Interval::positive()},
      {"demand.shock_rho", Interval{-1.0, 1.0, true, true}},
      {"demand.shock_sd", Interval::nonnegative()},
      {"workforce.beta_w", Interval::any()},
      {"workforce.beta_u", Interval::any()},
      {"workforce.gamma_w", Interval::any()},
      {"workforce.gamma_u", Interval::any()},
      {"workforce.productivity_new", Interval::unit()},
      {"workforce.care_time", Interval::unit_excluding_zero()},
      {"workforce.oncost", Interval::nonnegative()},
      {"workforce.vacancy0", Interval::unit()},
      {"workforce.new_share0", Interval::unit()},
      {"macro.outside_wage0", Interval::positive()},
      {"macro.g_w", Interval{-1.0, std::numeric_limits<double>::infinity(), true, false}},
      {"macro.rho_w", Interval{-1.0, 1.0, true, true}},
      {"macro.sd_w", Interval::nonnegative()},
      {"macro.u_mean", Interval::open_unit()},
      {"macro.rho_u", Interval{-1.0, 1.0, true, true}},
      {"macro.sd_u", Interval::nonnegative()},
      {"macro.cpi", Interval{-1.0, std::numeric_limits<double>::infinity(), true, false}},
      {"policy.nlw0", Interval::positive()},
      {"policy.g_nlw", Interval{-1.0, std::numeric_limits<double>::infinity(), true, false}},
      {"policy.rlw0", Interval::positive()},
      {"policy.g_rlw", Interval{-1.0, std::numeric_limits<double>::infinity(), true, false}},
      {"policy.parity_ratio", Interval::positive()},
      {"policy.phase_years", Interval::nonnegative()},
      {"policy.transition_years", Interval::nonnegative()},
      {"funding.budget_cover0", Interval::nonnegative()},
      {"funding.budget_growth_mean", Interval::any()},
      {"funding.budget_growth_sd", Interval::nonnegative()},
  }};
  return specs;
}

// Keys that only shape the initial state, which MODEL.md computes from the base configuration.
constexpr const char* kInitialStateKeys[] = {"workforce.vacancy0", "workforce.new_share0",
                                             "funding.budget0", "funding.budget_cover0"};

void check_share(const engine::ConfigReader& reader, const char* key,
                 const std::vector<double>& share) {
  if (share.empty()) return;
  double sum = 0.0;
  for (double s : share) sum += s;
  if (std::abs(sum - 1.0) > 1e-9) {
    reader.fail(key, fmt::format("expected shares that sum to 1, got a sum of {}", sum));
  }
}

}  // namespace

const char* param_key(Param p) { return param_specs()[static_cast<int>(p)].key; }

CareWfConfig read_care_wf_config(const engine::ConfigDocument& document, std::size_t scenario) {
  const engine::ConfigReader in(document, scenario);
  CareWfConfig c;
  const auto probability = Interval::unit();
  const auto open_probability = Interval::open_unit();
  const auto nonnegative = Interval::nonnegative();

  c.regions = in.names("regions.names");
  c.age_bands = in.names("population.age_bands");
  c.providers = in.names("providers.names");
  const auto R = c.R(), A = c.A(), P = c.P();

  c.population_initial =
      in.matrix("population.initial", R, "region", A, "age band", nonnegative);
  c.population_growth = in.matrix("population.annual_growth", R, "region", A, "age band",
                                  Interval{-1.0, std::numeric_limits<double>::infinity(), true,
                                           false});
  c.prevalence = in.numbers("demand.prevalence", A, "age band", probability);
  c.hours_per_week = in.numbers("demand.hours_per_week", A, "age band", nonnegative);

  c.share = in.numbers("providers.share", P, "provider", probability);
  check_share(in, "providers.share", c.share);
  c.contract_hours = in.numbers("providers.contract_hours", P, "provider", Interval::positive());
  c.wage_premium = in.numbers("providers.wage_premium", P, "provider",
                              Interval{-1.0, std::numeric_limits<double>::infinity(), true, false});
  c.overhead = in.numbers("providers.overhead", P, "provider", nonnegative);
  c.margin = in.numbers("providers.margin", P, "provider", Interval::half_open_unit());
  c.leakage = in.numbers("providers.leakage", P, "provider", probability);
  const auto turnover =
      in.matrix("providers.turnover_base", P, "provider", 2, "tenure band [new, settled]",
                open_probability);
  for (std::size_t p = 0; p < P; ++p) c.turnover_base.push_back({turnover[2 * p], turnover[2 * p + 1]});
  c.fill_base = in.numbers("providers.fill_base", P, "provider", open_probability);

  c.turnover_model = in.choice("workforce.turnover_model", {"wage_logit", "constant"}) == "constant"
                         ? TurnoverModel::constant
                         : TurnoverModel::wage_logit;
  const auto wage = in.choice("policy.wage", {"nlw", "real_living_wage", "parity"});
  c.wage = wage == "nlw"                ? WagePolicy::nlw
           : wage == "real_living_wage" ? WagePolicy::real_living_wage
                                        : WagePolicy::parity;
  c.nlw_path = in.number_list("policy.nlw_path", Interval::positive());
  c.share_target = in.numbers("policy.share_target", P, "provider", probability, true);
  check_share(in, "policy.share_target", c.share_target);
  c.budget0 = in.numbers("funding.budget0", R, "region", nonnegative, true);

  for (int i = 0; i < kParamCount; ++i) {
    c.params[i] = in.parameter(param_specs()[i].key, param_specs()[i].allowed);
  }
  for (const char* key : kInitialStateKeys) {
    if (in.overridden(key)) {
      in.fail(key, "only sets the initial state, which every scenario takes from the base "
                   "configuration; it cannot be overridden by a scenario");
    }
  }
  return c;
}

}  // namespace carecast::models
