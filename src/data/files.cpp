// Sources of image files: a folder tree (like torchvision's ImageFolder) and a
// text file listing one image per line. Files are decoded on get(), so a bad
// image fails (or is skipped by the pipeline) on its own.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "detail.hpp"
#include "prh/core/error.hpp"

namespace prh::data::detail {

namespace fs = std::filesystem;

namespace {

class FileSource final : public Source {
 public:
  FileSource(std::string kind, std::vector<std::string> paths, std::vector<std::int64_t> labels)
      : kind_(std::move(kind)), paths_(std::move(paths)), labels_(std::move(labels)) {}

  std::int64_t size() const override { return static_cast<std::int64_t>(paths_.size()); }

  Item get(std::int64_t i) const override {
    check(i);
    Item item;
    item.image = read_image(paths_[static_cast<std::size_t>(i)]);
    item.label = labels_[static_cast<std::size_t>(i)];
    item.id = paths_[static_cast<std::size_t>(i)];
    return item;
  }

  std::int64_t label(std::int64_t i) const override {
    check(i);
    return labels_[static_cast<std::size_t>(i)];
  }

  std::string id(std::int64_t i) const override {
    check(i);
    return paths_[static_cast<std::size_t>(i)];
  }

 private:
  void check(std::int64_t i) const {
    PRH_ASSERT(i >= 0 && i < size(), "{} source: index {} out of range [0, {})", kind_, i, size());
  }

  std::string kind_;
  std::vector<std::string> paths_;
  std::vector<std::int64_t> labels_;
};

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

}  // namespace

std::unique_ptr<Source> make_folder_source(const nlohmann::json& spec, const std::string& what) {
  require_opencv(what, "a folder source (JPEG/PNG files)");
  const Spec sp(spec, "folder", what);
  const std::string root_str = sp.str("root");
  const std::int64_t limit = sp.integer("limit");
  PRH_CHECK_INPUT(!root_str.empty(), "{}: folder source needs 'root' (a folder)", what);
  const fs::path root(root_str);
  std::error_code ec;
  PRH_CHECK_INPUT(fs::exists(root, ec), "{}: folder '{}' does not exist", what, root_str);
  PRH_CHECK_INPUT(fs::is_directory(root, ec), "{}: '{}' is not a folder", what, root_str);

  std::vector<std::string> classes;  // first-level sub-folders, sorted (ImageFolder's classes)
  std::vector<fs::path> files;       // relative to root
  try {
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory()) classes.push_back(e.path().filename().string());
    const auto opts = fs::directory_options::follow_directory_symlink;
    for (auto it = fs::recursive_directory_iterator(root, opts);
         it != fs::recursive_directory_iterator(); ++it)
      if (it->is_regular_file() && is_image_file(it->path()))
        files.push_back(it->path().lexically_relative(root));
  } catch (const fs::filesystem_error& e) {
    throw InputError(fmt::format("{}: cannot list folder '{}': {}", what, root_str, e.what()));
  }
  std::sort(classes.begin(), classes.end());
  // Component-wise path order: every file of class "a" before those of "a-b".
  std::sort(files.begin(), files.end());
  PRH_CHECK_INPUT(!files.empty(), "{}: no JPEG/PNG images (.jpg, .jpeg, .png) under folder '{}'",
                  what, root_str);
  if (limit > 0 && static_cast<std::int64_t>(files.size()) > limit)
    files.resize(static_cast<std::size_t>(limit));

  std::vector<std::string> paths;
  std::vector<std::int64_t> labels;
  for (const auto& rel : files) {
    std::int64_t label = -1;
    if (std::distance(rel.begin(), rel.end()) > 1) {
      const std::string first = rel.begin()->string();
      const auto it = std::lower_bound(classes.begin(), classes.end(), first);
      PRH_ASSERT(it != classes.end() && *it == first, "folder source: no class for {}",
                 rel.string());
      label = it - classes.begin();
    }
    paths.push_back((root / rel).string());
    labels.push_back(label);
  }
  return std::make_unique<FileSource>("folder", std::move(paths), std::move(labels));
}

std::unique_ptr<Source> make_list_source(const nlohmann::json& spec, const std::string& what) {
  require_opencv(what, "a list source (JPEG/PNG files)");
  const Spec sp(spec, "list", what);
  const std::string file = sp.str("file");
  const std::string root = sp.str("root");
  const std::int64_t limit = sp.integer("limit");
  PRH_CHECK_INPUT(!file.empty(), "{}: list source needs 'file' (a text file)", what);
  std::error_code ec;
  PRH_CHECK_INPUT(fs::is_regular_file(file, ec), "{}: list file '{}' does not exist", what, file);
  std::ifstream in(file);
  PRH_CHECK_INPUT(in.good(), "{}: cannot read list file '{}'", what, file);
  const fs::path base = root.empty() ? fs::path(file).parent_path() : fs::path(root);

  std::vector<std::string> paths;
  std::vector<std::int64_t> labels;
  std::string line;
  for (std::int64_t lineno = 1; std::getline(in, line); ++lineno) {
    if (limit > 0 && static_cast<std::int64_t>(paths.size()) >= limit) break;
    std::istringstream fields(line);
    std::vector<std::string> tok;
    for (std::string t; fields >> t;) tok.push_back(t);
    if (tok.empty() || tok[0][0] == '#') continue;
    PRH_CHECK_INPUT(tok.size() <= 2,
                    "{}: {}:{}: expected 'path [label]', got {} fields (paths may not hold spaces)",
                    what, file, lineno, tok.size());
    std::int64_t label = -1;
    if (tok.size() == 2) {
      const std::string& s = tok[1];
      const auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), label);
      PRH_CHECK_INPUT(err == std::errc() && end == s.data() + s.size(),
                      "{}: {}:{}: label '{}' is not an integer (expected 'path [label]')", what,
                      file, lineno, s);
    }
    const fs::path p(tok[0]);
    paths.push_back((p.is_absolute() ? p : base / p).string());
    labels.push_back(label);
  }
  PRH_CHECK_INPUT(!in.bad(), "{}: error reading list file '{}'", what, file);
  PRH_CHECK_INPUT(!paths.empty(), "{}: list file '{}' names no images", what, file);
  return std::make_unique<FileSource>("list", std::move(paths), std::move(labels));
}

}  // namespace prh::data::detail
