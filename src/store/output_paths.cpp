#include "prh/store/output_paths.hpp"

#include <sys/stat.h>

#include <filesystem>

#include <fmt/format.h>

#include "prh/core/error.hpp"
#include "prh/store/embedding_store.hpp"
#include "prh/store/results_store.hpp"
#include "unit_file.hpp"

namespace prh::store {

namespace {

namespace fs = std::filesystem;

struct Output {
  std::string what, path;
  bool folder = false;  // other outputs must not lie inside it
};

// The path with every existing part resolved (symlinks, '..'), absolute.
std::string canonical(const std::string& p) {
  std::error_code ec;
  auto c = fs::weakly_canonical(fs::absolute(p, ec), ec);
  if (ec) return fs::absolute(p).lexically_normal().string();
  return c.lexically_normal().string();
}

// Device and inode when the path exists (following symlinks).
bool same_inode(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

bool inside(const std::string& folder, const std::string& p) {
  return p.size() > folder.size() && p.compare(0, folder.size(), folder) == 0 &&
         p[folder.size()] == '/';
}

}  // namespace

std::vector<std::string> output_path_problems(const std::string& store,
                                              const std::string& results) {
  std::vector<Output> outs;
  if (!store.empty()) {
    outs.push_back({"the store", store, false});
    outs.push_back({"the store's parts folder", parts_dir(store), true});
  }
  if (!results.empty()) {
    const auto prep = prep_cache_path(results);
    outs.push_back({"the results file", results, false});
    outs.push_back({"the preparation cache of the results", prep, false});
    outs.push_back({"the results' journal folder", journal_dir(results), true});
    outs.push_back({"the preparation cache's journal folder", journal_dir(prep), true});
  }
  std::vector<std::string> canon;
  for (const auto& o : outs) canon.push_back(canonical(o.path));
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < outs.size(); ++i)
    for (std::size_t j = i + 1; j < outs.size(); ++j) {
      if (canon[i] == canon[j] || same_inode(outs[i].path, outs[j].path))
        problems.push_back(fmt::format(
            "{} ({}) and {} ({}) are the same file: writing one would destroy the other; "
            "give `store` and `results` paths that do not collide",
            outs[i].what, outs[i].path, outs[j].what, outs[j].path));
      else if ((outs[i].folder && inside(canon[i], canon[j])) ||
               (outs[j].folder && inside(canon[j], canon[i]))) {
        const auto& f = outs[i].folder && inside(canon[i], canon[j]) ? outs[i] : outs[j];
        const auto& o = &f == &outs[i] ? outs[j] : outs[i];
        problems.push_back(fmt::format("{} ({}) lies inside {} ({}), which prh manages and tidies",
                                       o.what, o.path, f.what, f.path));
      }
    }
  return problems;
}

void check_output_paths(const std::string& store, const std::string& results) {
  const auto problems = output_path_problems(store, results);
  if (problems.empty()) return;
  std::string msg = "the sweep's output paths collide, so prh refuses to write any of them:";
  for (const auto& p : problems) msg += "\n  - " + p;
  throw InputError(msg);
}

}  // namespace prh::store
