#include "prh/pipeline/zoo.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "prh/config/config.hpp"
#include "prh/core/error.hpp"
#include "prh/data/image.hpp"
#include "prh/models/model.hpp"
#include "prh/models/zoo.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/parallel/signals.hpp"
#include "prh/pipeline/stage.hpp"

namespace prh::pipeline {

using json = nlohmann::json;

std::vector<std::string> zoo_member_names() {
  std::vector<std::string> v;
  for (const auto& m : models::default_zoo()) v.push_back(m.name);
  return v;
}

namespace {

// Images of classes 0-4 from an IDX pair, in file order, labels 0-4.
models::ImageData load_images(const std::string& dir, const std::string& split,
                              std::int64_t limit) {
  std::vector<std::string> problems;
  const json node = {{"kind", "idx"},
                     {"images", dir + "/" + split + "-images-idx3-ubyte.gz"},
                     {"labels", dir + "/" + split + "-labels-idx1-ubyte.gz"},
                     {"classes", {0, 1, 2, 3, 4}},
                     {"limit", limit}};
  const auto spec = config::parse_source(node, "zoo " + split + " images", problems);
  PRH_CHECK_INPUT(problems.empty(), "zoo: {}", problems.empty() ? "" : problems.front());
  const auto src = data::make_source(spec.spec, "zoo " + split + " images");
  models::ImageData d;
  d.n = src->size();
  d.pixels.reserve(static_cast<std::size_t>(d.n) * 784);
  for (std::int64_t i = 0; i < d.n; ++i) {
    const auto item = src->get(i);
    PRH_CHECK_INPUT(item.image.height == 28 && item.image.width == 28 && item.image.channels == 1,
                    "zoo: {} image {} is not 28x28 grey", split, i);
    d.pixels.insert(d.pixels.end(), item.image.pixels.begin(), item.image.pixels.end());
    d.labels.push_back(item.label);
  }
  return d;
}

// The training and test images, loaded once by a rank that trains.
struct ZooData {
  models::ImageData train, test;
};

json report_json(const models::ZooMember& m, const models::TrainReport& r) {
  return {{"name", m.name},
          {"family", m.family},
          {"objective", m.objective},
          {"width", m.width},
          {"depth", m.depth},
          {"seed", m.seed},
          {"epochs", r.epochs},
          {"lr", m.lr},
          {"train_images", r.train_images},
          {"parameters", r.parameters},
          {"seconds", r.seconds},
          {"final_loss", r.final_loss},
          {"test_accuracy", r.test_accuracy >= 0 ? json(r.test_accuracy) : json(nullptr)}};
}

}  // namespace

int train_zoo(const ZooOptions& opt, const parallel::Session& session) {
  PRH_CHECK_INPUT(!opt.out_dir.empty(), "zoo: --out is required");
  std::vector<models::ZooMember> members;
  std::set<std::string> known;
  for (const auto& m : models::default_zoo()) known.insert(m.name);
  for (const auto& n : opt.only)
    PRH_CHECK_INPUT(known.count(n), "zoo: unknown member '{}' (known: {})", n,
                    fmt::join(zoo_member_names(), ", "));
  for (const auto& m : models::default_zoo())
    if (opt.only.empty() || std::find(opt.only.begin(), opt.only.end(), m.name) != opt.only.end())
      members.push_back(m);
  const std::string dir = opt.out_dir;
  auto done = [&](const models::ZooMember& m) {
    return std::filesystem::exists(dir + "/" + m.name + ".pt") &&
           std::filesystem::exists(dir + "/" + m.name + ".json");
  };
  // A unit per member; finished ones (their report exists) are done. Cost:
  // measured seconds per epoch times epochs, for balancing the ranks.
  UnitPlan up;
  up.stage = "zoo";
  up.unit = "members";
  up.share = Share::kBalanced;
  for (const auto& m : members) {
    up.cost.push_back(m.epoch_seconds * (opt.epochs > 0 ? opt.epochs : m.epochs));
    up.done.push_back(done(m) ? 1 : 0);
  }
  const auto todo = std::count(up.done.begin(), up.done.end(), std::uint8_t{0});
  if (session.root())
    spdlog::info("zoo: {} members, {} to train into {} ({} ranks)", members.size(), todo, dir,
                 session.size());
  const auto mine = my_units(up, session.rank(), session.size());
  std::optional<ZooData> data;
  if (!mine.empty()) {
    models::set_torch_threads(opt.threads);
    data = ZooData{load_images(opt.data_dir, "train", opt.train_limit),
                   load_images(opt.data_dir, "t10k", opt.test_limit)};
  }
  const auto out = run_units(session, up, [&](std::size_t u) {
    const auto& m = members[u];
    const auto& train = data->train;
    spdlog::info("zoo: training {} ({}, {}, width {}, depth {}, seed {}) on {} images", m.name,
                 m.family, m.objective, m.width, m.depth, m.seed, train.n);
    models::TrainReport rep;
    try {
      rep = models::train_member(
          m, train, data->test, 5, dir, opt.epochs, [&](int epoch, double loss) {
            spdlog::info("zoo: {} epoch {} loss {:.4f}", m.name, epoch, loss);
            // Abandon the member (nothing is written for it) on a stop.
            if (parallel::stop_requested()) throw Stopped("zoo training stopped on a signal");
          });
    } catch (const Stopped&) {
      spdlog::warn("zoo: {} abandoned on a stop request", m.name);
      throw;
    }
    // The report last: a member counts as trained once its .json exists.
    const std::string path = dir + "/" + m.name + ".json";
    {
      std::ofstream os(path + ".tmp");
      os << report_json(m, rep).dump(2) << "\n";
      PRH_CHECK_INPUT(os.good(), "zoo: cannot write {}.tmp (disk full, or no write permission?)",
                      path);
    }
    std::filesystem::rename(path + ".tmp", path);
    spdlog::info("zoo: {} done in {:.1f} s{}", m.name, rep.seconds,
                 rep.test_accuracy >= 0
                     ? fmt::format(", test accuracy {:.2f}%", 100 * rep.test_accuracy)
                     : std::string());
  });
  const auto total = out.done;
  if (session.root()) {
    spdlog::info("zoo: {} trained now, {} in {}", total, members.size(), dir);
    for (const auto& m : members) {
      std::ifstream in(dir + "/" + m.name + ".json");
      if (!in) continue;
      const auto r = json::parse(in);
      spdlog::info("  {:<20} {:<12} {:>8} params {:>6.1f} s  accuracy {}", m.name, m.objective,
                   r["parameters"].get<std::int64_t>(), r["seconds"].get<double>(),
                   r["test_accuracy"].is_null()
                       ? std::string("-")
                       : fmt::format("{:.2f}%", 100 * r["test_accuracy"].get<double>()));
    }
  }
  return static_cast<int>(total);
}

}  // namespace prh::pipeline
