// `prh compare A B`: two models' features under metrics (no MPI).

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "prh/core/error.hpp"
#include "prh/core/threads.hpp"
#include "prh/pipeline/compare.hpp"

#ifndef PRH_LEAN
#include "prh/accel/torch_backend.hpp"
#endif

namespace prh::cli {
namespace {

struct CompareArgs {
  std::string a, b;
  std::vector<std::string> metrics;
  bool no_clamp = false, no_normalize = false, clamp_exact = false, last_layer = false;
  bool json = false;
  double q = 0.95;
  int threads = 0;
  std::string device = "cpu";
};

int run_compare(const CompareArgs& args) {
  prh::pipeline::CompareOptions opt;
  opt.metrics = args.metrics;
  opt.pre.clamp = !args.no_clamp;
  opt.pre.q = args.q;
  opt.pre.exact = args.clamp_exact;
  opt.pre.normalize = !args.no_normalize;
  opt.last_layer = args.last_layer;
  PRH_CHECK_INPUT(args.q > 0 && args.q <= 1, "--clamp-q must be in (0, 1], got {}", args.q);
  // Bounded as threads_per_rank is: OpenMP crashes on a team of 100000.
  PRH_CHECK_INPUT(args.threads >= 0 && args.threads <= kMaxThreads,
                  "--threads must be in 0..{} (0: all cores), got {}", kMaxThreads, args.threads);
  prh::configure_threads(args.threads);
  opt.device = args.device;
  if (args.device != "cpu") {
#ifdef PRH_LEAN
    // main() hands `compare --device cuda` to prh-models before parsing.
    throw prh::InputError(fmt::format(
        "--device {}: runs in prh-models, which this prh did not start (build the target "
        "prh-models beside prh, or set PRH_MODELS)",
        args.device));
#else
    // Before the inputs are read: a missing GPU is reported before any work.
    const prh::accel::DeviceRequest request{args.device, "--device " + args.device,
                                            "use --device cpu"};
    prh::accel::check_device(request);
    opt.make_backend = [request] { return prh::accel::make_torch_backend(request, 0); };
#endif
  }
  const auto a = prh::store::parse_dataset_ref(args.a);
  const auto b = prh::store::parse_dataset_ref(args.b);
  const auto result = prh::pipeline::compare(a, b, opt);
  if (args.json)
    std::cout << prh::pipeline::to_json(result).dump() << std::endl;
  else
    prh::pipeline::print_table(std::cout, result, a, b);
  return prh::kExitOk;
}

}  // namespace

Command add_compare(CLI::App& app) {
  auto cmp = std::make_shared<CompareArgs>();
  auto* compare = app.add_subcommand(
      "compare", "Score two models' features (HDF5 datasets [N, D] or [N, L, D]) under metrics");
  compare->add_option("A", cmp->a, "features of model A: FILE.h5:/path/to/dataset")->required();
  compare->add_option("B", cmp->b, "features of model B: FILE.h5:/path/to/dataset")->required();
  compare->add_option("--metric,-m", cmp->metrics,
                      "metric configuration, e.g. mutual_knn:k=10, cka:kernel=rbf,sigma=0.5 "
                      "(repeatable; default: all eight metrics at their defaults)");
  compare->add_flag("--no-clamp", cmp->no_clamp, "disable the outlier clamp");
  compare->add_option("--clamp-q", cmp->q, "quantile of the outlier clamp (default 0.95)");
  compare->add_flag("--clamp-exact", cmp->clamp_exact,
                    "clamp at the global order statistic instead of the mean row quantile");
  compare->add_flag("--no-normalize", cmp->no_normalize, "disable L2 normalisation of rows");
  compare->add_flag("--last-layer", cmp->last_layer, "compare last layers only (no layer maximum)");
  compare->add_flag("--json", cmp->json, "print one JSON object on stdout");
  compare->add_option("--threads", cmp->threads,
                      "threads (0: all cores, or OMP_NUM_THREADS); results do not depend on it");
  compare
      ->add_option("--device", cmp->device,
                   "where the heavy metric steps run: cpu (default) or cuda (GPU 0 of those "
                   "visible; runs in prh-models; values agree with cpu within docs/gpu.md's "
                   "tolerance)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  return {compare, [cmp](int*, char***) { return run_compare(*cmp); }};
}

}  // namespace prh::cli
