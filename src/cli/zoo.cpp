// `prh zoo train`: prh's own model zoo (MPI: members spread over ranks).
// Runs in prh-models (prh hands `zoo` over before parsing).

#include <memory>

#include "command.hpp"
#include "prh/core/threads.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/pipeline/zoo.hpp"

namespace prh::cli {

Command add_zoo(CLI::App& app) {
  auto opt = std::make_shared<prh::pipeline::ZooOptions>();
  auto* zoo = app.add_subcommand(
      "zoo", "prh's own model zoo (Fashion-MNIST, generated shapes, photographs)");
  zoo->require_subcommand(1);
  auto* train = zoo->add_subcommand(
      "train", "Train the zoo's members not yet trained (MPI: members spread over ranks)");
  train->add_option("--out", opt->out_dir, "directory for NAME.pt, NAME.yaml, NAME.json")
      ->required();
  train->add_option("--data", opt->data_dir, "Fashion-MNIST IDX directory");
  train->add_option("--photos", opt->photo_dir,
                    "photographs of the natural members (python3-skimage's skimage/data)");
  train->add_option("--only", opt->only, "train only these members (repeatable)");
  train->add_option("--epochs", opt->epochs, "override every member's epochs")
      ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  train
      ->add_option("--train-limit", opt->train_limit,
                   "use the first N training images of classes 0-4")
      ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  train->add_option("--test-limit", opt->test_limit, "use the first N test images")
      ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  train->add_option("--threads", opt->threads, "LibTorch threads per rank (default 1)")
      ->check(CLI::Range(1, kMaxThreads).description("1..1024"));
#ifdef PRH_LEAN
  return {train, nullptr};
#else
  return {train, [opt](int* argc, char*** argv) {
            return in_session(argc, argv, [&](const prh::parallel::Session& session) {
              prh::configure_threads(opt->threads);
              prh::pipeline::train_zoo(*opt, session);
            });
          }};
#endif
}

}  // namespace prh::cli
