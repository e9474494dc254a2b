// Sources that destroy a base source's structure step by step while keeping
// part of its statistics: patch shuffling (keeps every local patch, loses their
// arrangement) and phase scrambling (keeps the amplitude spectrum, loses the
// phase that carries edges and objects). Every image is a pure function of
// (base image i, parameters, seed, i): the same bytes on every rank and run.

#include <algorithm>
#include <cmath>
#include <complex>
#include <random>
#include <string>
#include <vector>

#include "detail.hpp"
#include "prh/core/error.hpp"

namespace prh::data::detail {

namespace {

using cplx = std::complex<double>;

// In-place DFT of n values spaced `stride` apart (sign -1: forward, +1:
// inverse without the 1/n). A plain O(n^2) sum with a twiddle table: portable
// and exact enough (double), and images here are small.
void dft_line(cplx* x, int n, std::ptrdiff_t stride, const std::vector<cplx>& tw,
              std::vector<cplx>& tmp) {
  tmp.assign(static_cast<std::size_t>(n), cplx(0.0, 0.0));
  for (int k = 0; k < n; ++k) {
    cplx s(0.0, 0.0);
    for (int j = 0; j < n; ++j)
      s += x[j * stride] * tw[static_cast<std::size_t>((static_cast<long>(k) * j) % n)];
    tmp[static_cast<std::size_t>(k)] = s;
  }
  for (int k = 0; k < n; ++k) x[k * stride] = tmp[static_cast<std::size_t>(k)];
}

std::vector<cplx> twiddles(int n, int sign) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  std::vector<cplx> tw(static_cast<std::size_t>(n));
  for (int j = 0; j < n; ++j) {
    const double a = sign * kTwoPi * j / n;
    tw[static_cast<std::size_t>(j)] = cplx(std::cos(a), std::sin(a));
  }
  return tw;
}

// 2-D DFT of an h x w row-major array (sign -1 forward, +1 inverse with 1/(h w)).
void dft2(std::vector<cplx>& a, int h, int w, int sign) {
  const auto tw_w = twiddles(w, sign), tw_h = twiddles(h, sign);
  std::vector<cplx> tmp;
  for (int r = 0; r < h; ++r)
    dft_line(a.data() + static_cast<std::ptrdiff_t>(r) * w, w, 1, tw_w, tmp);
  for (int c = 0; c < w; ++c) dft_line(a.data() + c, h, w, tw_h, tmp);
  if (sign > 0)
    for (auto& v : a) v /= static_cast<double>(h) * static_cast<double>(w);
}

// The Fisher-Yates shuffle of 0..n-1 with our own index draw (std::shuffle and
// std::uniform_int_distribution are implementation-defined).
std::vector<int> permutation(int n, std::uint64_t seed) {
  std::vector<int> p(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) p[static_cast<std::size_t>(k)] = k;
  std::mt19937_64 rng(seed);
  for (int k = n - 1; k > 0; --k) {
    const auto j = static_cast<int>(rng() % static_cast<std::uint64_t>(k + 1));
    std::swap(p[static_cast<std::size_t>(k)], p[static_cast<std::size_t>(j)]);
  }
  return p;
}

std::uint8_t to_byte(double v) {
  return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
}

}  // namespace

Image patch_shuffle(const Image& img, int patch, std::uint64_t seed) {
  PRH_ASSERT(patch >= 1, "patch_shuffle: patch size {} < 1", patch);
  const int ph = img.height / patch, pw = img.width / patch;  // full patches
  const int n = ph * pw;
  if (n <= 1) return img;
  const auto perm = permutation(n, seed);
  Image out = img;
  const auto c = static_cast<std::size_t>(img.channels);
  const std::size_t row = static_cast<std::size_t>(img.width) * c;
  const std::size_t run = static_cast<std::size_t>(patch) * c;  // bytes of one patch row
  for (int dst = 0; dst < n; ++dst) {
    const int src = perm[static_cast<std::size_t>(dst)];
    const std::size_t sy = static_cast<std::size_t>(src / pw * patch),
                      sx = static_cast<std::size_t>(src % pw * patch);
    const std::size_t dy = static_cast<std::size_t>(dst / pw * patch),
                      dx = static_cast<std::size_t>(dst % pw * patch);
    for (std::size_t y = 0; y < static_cast<std::size_t>(patch); ++y)
      std::copy_n(img.pixels.data() + (sy + y) * row + sx * c, run,
                  out.pixels.data() + (dy + y) * row + dx * c);
  }
  return out;
}

std::vector<double> phase_scramble(const std::vector<double>& plane, int h, int w,
                                   const std::vector<double>& noise_plane, double amount) {
  PRH_ASSERT(plane.size() == static_cast<std::size_t>(h) * static_cast<std::size_t>(w) &&
                 noise_plane.size() == plane.size(),
             "phase_scramble: planes of {} and {} values for {} x {}", plane.size(),
             noise_plane.size(), h, w);
  const std::size_t n = plane.size();
  std::vector<cplx> f(n), g(n);
  for (std::size_t k = 0; k < n; ++k) f[k] = plane[k], g[k] = noise_plane[k];
  dft2(f, h, w, -1);
  dft2(g, h, w, -1);
  const auto at = [w](int u, int v) {
    return static_cast<std::size_t>(u) * static_cast<std::size_t>(w) + static_cast<std::size_t>(v);
  };
  for (int u = 0; u < h; ++u)
    for (int v = 0; v < w; ++v) {
      // Self-conjugate bins (DC and Nyquist) must stay real: their phase is kept.
      const int cu = (h - u) % h, cv = (w - v) % w;  // the conjugate bin
      if (cu == u && cv == v) continue;
      // The random phase is odd by construction (theta(-k) = -theta(k), taken
      // from the first of the two bins): the result stays Hermitian, so real,
      // even where the noise's DFT is ~0 and its arg is rounding noise.
      const bool first = u < cu || (u == cu && v < cv);
      const double theta = first ? std::arg(g[at(u, v)]) : -std::arg(g[at(cu, cv)]);
      f[at(u, v)] *= std::polar(1.0, amount * theta);
    }
  dft2(f, h, w, +1);
  std::vector<double> out(n);
  for (std::size_t k = 0; k < n; ++k) out[k] = f[k].real();
  return out;
}

namespace {

class PatchShuffleSource final : public DerivedSource {
 public:
  PatchShuffleSource(std::unique_ptr<Source> base, int patch, std::uint64_t seed)
      : DerivedSource(std::move(base), fmt::format("patch_shuffle({}):", patch)),
        patch_(patch),
        seed_(seed) {}

 private:
  void transform(Image& image, std::int64_t i) const override {
    image = patch_shuffle(image, patch_, noise_seed(seed_, i));
  }

  int patch_;
  std::uint64_t seed_;
};

class PhaseScrambleSource final : public DerivedSource {
 public:
  PhaseScrambleSource(std::unique_ptr<Source> base, double amount, std::uint64_t seed)
      : DerivedSource(std::move(base), fmt::format("phase_scramble({}):", amount)),
        amount_(amount),
        seed_(seed) {}

 private:
  void transform(Image& img, std::int64_t i) const override {
    const int h = img.height, w = img.width, c = img.channels;
    const std::size_t n = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
    // One random phase for all channels (keeps their correlation): the phase
    // of the DFT of a uniform noise plane, seeded by (seed, i).
    std::vector<std::uint8_t> nz(n);
    Noise noise;
    noise.seed = seed_;
    noise_bytes(noise, i, n, nz.data());
    const std::vector<double> noise_plane(nz.begin(), nz.end());
    std::vector<std::vector<double>> planes(static_cast<std::size_t>(c));
    for (int ch = 0; ch < c; ++ch) {
      std::vector<double> p(n);
      for (std::size_t k = 0; k < n; ++k)
        p[k] = img.pixels[k * static_cast<std::size_t>(c) + static_cast<std::size_t>(ch)];
      planes[static_cast<std::size_t>(ch)] = phase_scramble(p, h, w, noise_plane, amount_);
    }
    // Fit into 0..255 by scaling the contrast about each plane's mean (the DC,
    // unchanged) with one factor s <= 1 for the image: the amplitude spectrum
    // keeps its shape (scaled by s) instead of being distorted by clipping.
    double s = 1.0;
    std::vector<double> means(static_cast<std::size_t>(c), 0.0);
    for (int ch = 0; ch < c; ++ch) {
      const auto& p = planes[static_cast<std::size_t>(ch)];
      double& m = means[static_cast<std::size_t>(ch)];
      for (double v : p) m += v;
      m /= static_cast<double>(n);
      for (double v : p) {
        if (v > 255.0) s = std::min(s, (255.0 - m) / (v - m));
        if (v < 0.0) s = std::min(s, m / (m - v));
      }
    }
    s = std::max(s, 0.0);
    for (int ch = 0; ch < c; ++ch) {
      const auto& p = planes[static_cast<std::size_t>(ch)];
      const double m = means[static_cast<std::size_t>(ch)];
      for (std::size_t k = 0; k < n; ++k)
        img.pixels[k * static_cast<std::size_t>(c) + static_cast<std::size_t>(ch)] =
            to_byte(s < 1.0 ? m + s * (p[k] - m) : p[k]);
    }
  }

  double amount_;
  std::uint64_t seed_;
};

}  // namespace

std::unique_ptr<Source> make_patch_shuffle_source(const nlohmann::json& spec,
                                                  const std::string& what) {
  const Spec sp(spec, "patch_shuffle", what);
  const auto patch = static_cast<int>(sp.integer("patch"));
  return std::make_unique<PatchShuffleSource>(sp.base(), patch, sp.seed());
}

std::unique_ptr<Source> make_phase_scramble_source(const nlohmann::json& spec,
                                                   const std::string& what) {
  const Spec sp(spec, "phase_scramble", what);
  const double amount = sp.number("amount");
  return std::make_unique<PhaseScrambleSource>(sp.base(), amount, sp.seed());
}

}  // namespace prh::data::detail
