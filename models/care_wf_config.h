// The care_wf model's parameters for one scenario, read and checked from a ConfigDocument.
// See ../shared/MODEL.md (the contract) and docs/model.md (choices where it is silent).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/config_document.h"
#include "engine/distribution.h"

namespace carecast::models {

enum class TurnoverModel { wage_logit, constant };
enum class WagePolicy { nlw, real_living_wage, parity };

// Every scalar parameter of the model; each may be a number or a distribution, and each has its
// own random-number draw site (its index here), shared by all scenarios.
enum class Param : int {
  prevalence_multiplier,
  shock_rho,
  shock_sd,
  beta_w,
  beta_u,
  gamma_w,
  gamma_u,
  productivity_new,
  care_time,
  oncost,
  vacancy0,
  new_share0,
  outside_wage0,
  g_w,
  rho_w,
  sd_w,
  u_mean,
  rho_u,
  sd_u,
  cpi,
  nlw0,
  g_nlw,
  rlw0,
  g_rlw,
  parity_ratio,
  phase_years,
  transition_years,
  budget_cover0,
  budget_growth_mean,
  budget_growth_sd,
  count
};
inline constexpr int kParamCount = static_cast<int>(Param::count);

// The configuration key of each parameter, e.g. "workforce.beta_w".
const char* param_key(Param p);

struct CareWfConfig {
  // Axes (shared by every scenario).
  std::vector<std::string> regions;
  std::vector<std::string> age_bands;
  std::vector<std::string> providers;

  // [R][A], row-major.
  std::vector<double> population_initial;
  std::vector<double> population_growth;
  // [A]
  std::vector<double> prevalence;
  std::vector<double> hours_per_week;
  // [P]
  std::vector<double> share;
  std::vector<double> contract_hours;
  std::vector<double> wage_premium;
  std::vector<double> overhead;
  std::vector<double> margin;
  std::vector<double> leakage;
  std::vector<std::array<double, 2>> turnover_base;  // [new, settled]
  std::vector<double> fill_base;

  TurnoverModel turnover_model = TurnoverModel::wage_logit;
  WagePolicy wage = WagePolicy::nlw;
  std::vector<double> nlw_path;      // NLW per fiscal year from the start year (may be empty)
  std::vector<double> share_target;  // [P] or empty
  std::vector<double> budget0;       // [R] or empty

  std::array<engine::Distribution, kParamCount> params;

  const engine::Distribution& operator[](Param p) const { return params[static_cast<int>(p)]; }
  std::size_t R() const { return regions.size(); }
  std::size_t A() const { return age_bands.size(); }
  std::size_t P() const { return providers.size(); }
};

// Reads scenario `scenario` (0 = base) of the document. Throws engine::ConfigError.
CareWfConfig read_care_wf_config(const engine::ConfigDocument& document, std::size_t scenario);

}  // namespace carecast::models
