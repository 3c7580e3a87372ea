#include "engine/partial_rank_correlation.h"

#include <Eigen/Dense>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "engine/random_stream.h"

namespace carecast::engine {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Ranks 1..n, ties sharing their average rank.
Eigen::VectorXd ranks(const Eigen::VectorXd& x) {
  const auto n = x.size();
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return x[a] < x[b]; });
  Eigen::VectorXd r(n);
  for (Eigen::Index i = 0; i < n;) {
    Eigen::Index j = i;
    while (j + 1 < n && x[order[j + 1]] == x[order[i]]) ++j;
    const double average = 0.5 * static_cast<double>(i + j) + 1.0;
    for (Eigen::Index m = i; m <= j; ++m) r[order[m]] = average;
    i = j + 1;
  }
  return r;
}

bool varies(const Eigen::VectorXd& x) { return x.maxCoeff() > x.minCoeff(); }

// PRCC of each column of `inputs` with `output` (one sample, no bootstrap).
std::vector<double> prcc_once(const Eigen::MatrixXd& inputs, const Eigen::VectorXd& output) {
  const auto n = inputs.rows(), k = inputs.cols();
  std::vector<Eigen::Index> used;
  for (Eigen::Index j = 0; j < k; ++j) {
    if (varies(inputs.col(j))) used.push_back(j);
  }
  std::vector<double> out(static_cast<std::size_t>(k), kNaN);
  if (!varies(output)) return out;
  const auto m = static_cast<Eigen::Index>(used.size());
  Eigen::MatrixXd z(n, m + 1);
  for (Eigen::Index c = 0; c < m; ++c) z.col(c) = ranks(inputs.col(used[c]));
  z.col(m) = ranks(output);
  const Eigen::RowVectorXd mean = z.colwise().mean();
  z.rowwise() -= mean;
  const Eigen::MatrixXd covariance = z.transpose() * z;
  const Eigen::MatrixXd precision = covariance.completeOrthogonalDecomposition().pseudoInverse();
  for (Eigen::Index c = 0; c < m; ++c) {
    const double denominator = std::sqrt(precision(c, c) * precision(m, m));
    out[static_cast<std::size_t>(used[c])] =
        denominator > 0 ? std::clamp(-precision(c, m) / denominator, -1.0, 1.0) : kNaN;
  }
  return out;
}

double percentile(std::vector<double> values, double p) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double position = p * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const auto above = std::min(below + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return values[below] + fraction * (values[above] - values[below]);
}

}  // namespace

PrccResult partial_rank_correlation(std::span<const double> inputs, std::size_t k,
                                    std::span<const double> output, int bootstrap,
                                    double interval, std::uint64_t seed) {
  const std::size_t n = output.size();
  if (inputs.size() != n * k) throw std::invalid_argument("partial_rank_correlation: inputs is not n x k");
  if (n < k + 3) {
    throw std::invalid_argument(fmt::format(
        "partial_rank_correlation: needs at least {} samples for {} inputs, got {}", k + 3, k, n));
  }
  if (!(interval > 0.0 && interval < 1.0) || bootstrap < 0) {
    throw std::invalid_argument("partial_rank_correlation: interval must be in (0, 1) and "
                                "bootstrap >= 0");
  }
  const auto rows = static_cast<Eigen::Index>(n), cols = static_cast<Eigen::Index>(k);
  Eigen::MatrixXd x(rows, cols);
  Eigen::VectorXd y(rows);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) x(i, j) = inputs[static_cast<std::size_t>(i) * k + j];
    y[i] = output[static_cast<std::size_t>(i)];
  }
  if (!varies(y)) throw std::invalid_argument("partial_rank_correlation: the output does not vary");

  PrccResult result;
  result.prcc = prcc_once(x, y);
  std::vector<std::vector<double>> samples(k);
  Eigen::MatrixXd xb(rows, cols);
  Eigen::VectorXd yb(rows);
  for (int b = 0; b < bootstrap; ++b) {
    RandomStream stream({seed, static_cast<std::uint32_t>(b), 0, 0});
    for (Eigen::Index i = 0; i < rows; ++i) {
      const auto pick = static_cast<Eigen::Index>(stream.uniform() * static_cast<double>(n));
      xb.row(i) = x.row(std::min(pick, rows - 1));
      yb[i] = y[std::min(pick, rows - 1)];
    }
    const auto p = prcc_once(xb, yb);
    for (std::size_t j = 0; j < k; ++j) samples[j].push_back(p[j]);
  }
  const double tail = 0.5 * (1.0 - interval);
  for (std::size_t j = 0; j < k; ++j) {
    result.low.push_back(bootstrap > 0 ? percentile(samples[j], tail) : kNaN);
    result.high.push_back(bootstrap > 0 ? percentile(samples[j], 1.0 - tail) : kNaN);
  }
  return result;
}

}  // namespace carecast::engine
