#pragma once
// Correlation coefficients with two-sided p-values: Pearson, Spearman (average
// ranks for ties) and Kendall's tau-b. Pure functions; NaN where a vector is
// constant (the coefficient is undefined).

#include <cstdint>
#include <string>
#include <vector>

namespace prh::stats {

enum class Method { Pearson, Spearman, Kendall };
Method parse_method(const std::string& name);  // "pearson" | "spearman" | "kendall"
std::string method_name(Method m);

struct Correlation {
  double r = 0;        // coefficient (NaN if undefined)
  double p = 0;        // two-sided p-value (NaN if undefined)
  std::int64_t n = 0;  // pairs used
  bool exact = false;  // p from the exact permutation distribution
};

// Average ranks (1-based), ties sharing the mean of their positions.
std::vector<double> ranks(const std::vector<double>& x);

double pearson_r(const std::vector<double>& x, const std::vector<double>& y);
double spearman_r(const std::vector<double>& x, const std::vector<double>& y);
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

// Largest n for which p-values are exact (all n! permutations of y).
inline constexpr int kExactMaxN = 8;

// Coefficient and p-value. p: exact permutation p-value for n <= kExactMaxN
// (Spearman, Kendall), else Student's t with n - 2 degrees of freedom (Pearson,
// Spearman) or the normal approximation with the tie-corrected variance
// (Kendall). Throws InputError for vectors of different length or n < 3.
Correlation correlate(const std::vector<double>& x, const std::vector<double>& y, Method m);

// The coefficient alone (no p-value: for permutation and bootstrap loops,
// whose reference is their own distribution) over the positions where both x
// and y are finite; NaN with fewer than 3 of them.
double coefficient_finite(const std::vector<double>& x, const std::vector<double>& y, Method m);

}  // namespace prh::stats
