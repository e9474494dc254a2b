// TorchScript models: loading, forward, and the output contract
// (docs/models.md); and imported features saved with torch.save
// (docs/config.md, "Imported features"), read here to keep LibTorch's
// headers in few files.

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <ATen/Parallel.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/unpickler.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include "prh/core/error.hpp"
#include "prh/models/model.hpp"

namespace prh::models {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The useful line of a torch error message. Errors raised inside the
// TorchScript interpreter start with a banner and a TorchScript traceback; the
// reason is then on the last line ("RuntimeError: ..."). Otherwise the first
// line carries it (the rest is context or a C++ backtrace).
std::string short_reason(const std::exception& e) {
  const auto* ce = dynamic_cast<const c10::Error*>(&e);
  const std::string msg = ce ? ce->what_without_backtrace() : e.what();
  const std::vector<std::string> lines = lines_of(msg);
  if (lines.empty()) return "unknown error";
  if (lines.front().rfind("The following operation failed in the TorchScript interpreter", 0) ==
      0) {
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      const std::string& l = *it;
      const auto colon = l.find("Error: ");
      if (colon != std::string::npos && l.find(' ') > colon) return l.substr(colon + 7);
    }
    return lines.back();
  }
  return lines.front();
}

std::string shape_str(c10::IntArrayRef sizes) {
  std::string s = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

// What an output value is, for error messages.
std::string describe(const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    return fmt::format("a {} tensor of shape {}", c10::toString(t.scalar_type()),
                       shape_str(t.sizes()));
  }
  if (v.isNone()) return "None";
  return "a value of type " + v.type()->annotation_str();
}

constexpr const char* kContract =
    "a [B, D] float tensor; a tuple or list of [B, D] float tensors (one per layer); or a dict "
    "with "
    "\"layers\" (a [B, L, D] tensor or a list of [B, D] tensors) and optional \"logits\" [B, C]";

class TorchScriptModel final : public Model {
 public:
  TorchScriptModel(std::string name, Sidecar sidecar, torch::jit::Module module,
                   torch::Device device)
      : name_(std::move(name)),
        sidecar_(std::move(sidecar)),
        module_(std::move(module)),
        device_(device) {
    module_.eval();
    for (const at::Tensor& p : module_.parameters()) parameters_ += p.numel();
  }

  const Sidecar& sidecar() const override { return sidecar_; }
  std::int64_t parameter_count() const override { return parameters_; }

  Output forward(const std::vector<float>& input, std::int64_t batch) override {
    const std::int64_t c = sidecar_.transform.channels;
    const std::int64_t s = sidecar_.input_size;
    PRH_CHECK_INPUT(batch > 0, "{}: forward needs a batch of at least one image (got {})", name_,
                    batch);
    PRH_CHECK_INPUT(input.size() == static_cast<std::size_t>(batch * c * s * s),
                    "{}: forward input has {} floats, but a batch of {} x {} x {} x {} (from the "
                    "sidecar) needs {}",
                    name_, input.size(), batch, c, s, s, batch * c * s * s);

    // Deterministic execution: the inference guard turns autograd off, and
    // the graph optimiser is off so that every call runs the same kernels
    // (profiled/fused plans would otherwise differ between the first calls
    // and later ones, and between batch sizes).
    c10::InferenceMode inference;
    torch::jit::GraphOptimizerEnabledGuard no_optimizer(false);

    const std::vector<std::int64_t> shape{batch, c, s, s};
    // from_blob does not own the data; clone so that a model that works in
    // place cannot write into the caller's vector.
    at::Tensor x = torch::from_blob(const_cast<float*>(input.data()), shape, torch::kFloat);
    x = device_.is_cpu() ? x.clone() : x.to(device_);

    c10::IValue out;
    try {
      out = module_.forward({x});
    } catch (const std::exception& e) {
      throw InputError(fmt::format(
          "{}: forward failed on input {} (does the sidecar's input_size/channels match the "
          "model?): {}",
          name_, shape_str(shape), short_reason(e)));
    }
    return parse(out, batch);
  }

 private:
  // A [B, D] (or [B, C]: `shape`) floating-point tensor, else InputError.
  at::Tensor layer_2d(const c10::IValue& v, const std::string& what, std::int64_t batch,
                      const char* shape = "[B, D]") const {
    PRH_CHECK_INPUT(v.isTensor(), "{}: model output {} must be a {} float tensor, got {}", name_,
                    what, shape, describe(v));
    at::Tensor t = v.toTensor();
    PRH_CHECK_INPUT(t.dim() == 2 && t.size(0) == batch && t.size(1) > 0,
                    "{}: model output {} must be a {} tensor with B = {} (the batch), got shape {}",
                    name_, what, shape, batch, shape_str(t.sizes()));
    PRH_CHECK_INPUT(t.is_floating_point(),
                    "{}: model output {} must be a floating-point tensor, got {}", name_, what,
                    describe(v));
    return t;
  }

  // The elements of a tuple or list, else an empty vector and false.
  static bool sequence(const c10::IValue& v, std::vector<c10::IValue>& out) {
    out.clear();
    if (v.isTuple()) {
      for (const c10::IValue& e : v.toTupleRef().elements()) out.push_back(e);
      return true;
    }
    if (v.isList()) {
      for (const c10::IValue& e : v.toListRef()) out.push_back(e);
      return true;
    }
    return false;
  }

  std::vector<at::Tensor> layer_list(const std::vector<c10::IValue>& items, const std::string& what,
                                     std::int64_t batch) const {
    PRH_CHECK_INPUT(!items.empty(), "{}: model output {} is empty; expected {}", name_, what,
                    kContract);
    std::vector<at::Tensor> layers;
    for (std::size_t l = 0; l < items.size(); ++l)
      layers.push_back(layer_2d(items[l], fmt::format("{} element {}", what, l), batch));
    return layers;
  }

  Output parse(const c10::IValue& out, std::int64_t batch) const {
    std::vector<at::Tensor> layers;
    at::Tensor logits;
    std::vector<c10::IValue> items;
    if (out.isTensor()) {
      const at::Tensor& t = out.toTensor();
      PRH_CHECK_INPUT(t.dim() == 2, "{}: model output: expected {}; got {}", name_, kContract,
                      describe(out));
      layers.push_back(layer_2d(out, "(a single tensor)", batch));
    } else if (sequence(out, items)) {
      layers = layer_list(items, out.isTuple() ? "tuple" : "list", batch);
    } else if (out.isGenericDict()) {
      parse_dict(out, batch, layers, logits);
    } else {
      PRH_CHECK_INPUT(false, "{}: model output: expected {}; got {}", name_, kContract,
                      describe(out));
    }
    return to_output(layers, logits, batch);
  }

  // A dict output: "layers" (required) and "logits" (optional).
  void parse_dict(const c10::IValue& out, std::int64_t batch, std::vector<at::Tensor>& layers,
                  at::Tensor& logits) const {
    c10::IValue layers_v, logits_v;
    bool has_layers = false, has_logits = false;
    for (const auto& kv : out.toGenericDict()) {
      if (!kv.key().isString()) continue;
      const std::string& k = kv.key().toStringRef();
      if (k == "layers") {
        layers_v = kv.value();
        has_layers = true;
      } else if (k == "logits") {
        logits_v = kv.value();
        has_logits = true;
      }
    }
    PRH_CHECK_INPUT(has_layers,
                    "{}: model output is a dict without the key \"layers\"; expected {}", name_,
                    kContract);
    layers = dict_layers(layers_v, batch);
    if (has_logits && !logits_v.isNone()) logits = dict_logits(logits_v, batch);
  }

  // A dict's "layers": a [B, L, D] tensor or a list of [B, D] tensors.
  std::vector<at::Tensor> dict_layers(const c10::IValue& layers_v, std::int64_t batch) const {
    std::vector<at::Tensor> layers;
    std::vector<c10::IValue> items;
    if (layers_v.isTensor()) {
      const at::Tensor& t = layers_v.toTensor();
      PRH_CHECK_INPUT(t.dim() == 3 && t.size(0) == batch && t.size(1) > 0 && t.size(2) > 0,
                      "{}: model output \"layers\" must be a [B, L, D] tensor with B = {} (the "
                      "batch) or a list of [B, D] tensors, got {}",
                      name_, batch, describe(layers_v));
      PRH_CHECK_INPUT(t.is_floating_point(),
                      "{}: model output \"layers\" must be a floating-point tensor, got {}", name_,
                      describe(layers_v));
      for (std::int64_t l = 0; l < t.size(1); ++l) layers.push_back(t.select(1, l));
    } else if (sequence(layers_v, items)) {
      layers = layer_list(items, "\"layers\"", batch);
    } else {
      PRH_CHECK_INPUT(false,
                      "{}: model output \"layers\" must be a [B, L, D] tensor or a list of "
                      "[B, D] tensors, got {}",
                      name_, describe(layers_v));
    }
    return layers;
  }

  // A dict's "logits". TorchScript dicts have one value type: a
  // Dict[str, List[Tensor]] carries the logits as a one-element list.
  at::Tensor dict_logits(const c10::IValue& logits_v, std::int64_t batch) const {
    std::vector<c10::IValue> items;
    if (!sequence(logits_v, items)) return layer_2d(logits_v, "\"logits\"", batch, "[B, C]");
    PRH_CHECK_INPUT(items.size() == 1,
                    "{}: model output \"logits\" must be a [B, C] tensor (or a list holding "
                    "one), got a list of {}",
                    name_, items.size());
    return layer_2d(items[0], "\"logits\"", batch, "[B, C]");
  }

  // The layers (checked against the sidecar's names) and logits as host floats.
  Output to_output(const std::vector<at::Tensor>& layers, const at::Tensor& logits,
                   std::int64_t batch) const {
    const auto& names = sidecar_.layer_names;
    PRH_CHECK_INPUT(names.empty() || names.size() == layers.size(),
                    "{}: the model returns {} layers but its sidecar names {} (layer_names)", name_,
                    layers.size(), names.size());

    Output o;
    o.batch = batch;
    for (const at::Tensor& t : layers) {
      o.dims.push_back(t.size(1));
      o.layers.push_back(to_vector(t));
    }
    if (logits.defined()) {
      o.classes = logits.size(1);
      o.logits = to_vector(logits);
    }
    return o;
  }

  static std::vector<float> to_vector(const at::Tensor& t) {
    const at::Tensor c = t.to(torch::kCPU, torch::kFloat).contiguous();
    std::vector<float> v(static_cast<std::size_t>(c.numel()));
    if (!v.empty()) std::memcpy(v.data(), c.data_ptr<float>(), v.size() * sizeof(float));
    return v;
  }

  std::string name_;
  Sidecar sidecar_;
  torch::jit::Module module_;
  torch::Device device_;
  std::int64_t parameters_ = 0;
};

torch::Device pick_device(const std::string& name, const std::string& device, int local_rank) {
  if (device == "cpu") return torch::Device(torch::kCPU);
  PRH_CHECK_INPUT(device == "cuda", "{}: unknown device '{}' (expected 'cpu' or 'cuda')", name,
                  device);
  PRH_CHECK_INPUT(torch::cuda::is_available(),
                  "{}: device 'cuda' was asked for, but CUDA is not available (this LibTorch is "
                  "CPU-only or no GPU is visible); use device: cpu",
                  name);
  const auto count = static_cast<int>(torch::cuda::device_count());
  PRH_CHECK_INPUT(count > 0, "{}: device 'cuda' was asked for, but no GPU is visible", name);
  const int r = local_rank < 0 ? 0 : local_rank;
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(r % count));
}

// LibTorch 1.13's unpickler lacks SETITEM ('s'), which Python's pickle
// writes for a dict of one item (torch.save({"feats": t})). PickleWalk
// rewrites each SETITEM as MARK key value SETITEMS, which it reads: it walks
// the opcodes (protocols 2 to 4, what torch.save writes), tracking where each
// stack entry began, and inserts the MARK there. Anything it does not know
// leaves the pickle as it was (LibTorch then names the problem).
class PickleWalk {
 public:
  explicit PickleWalk(const std::string& p) : p_(p) {}

  // Walks every opcode; false at one it does not know. Throws
  // std::out_of_range where the stack or an argument does not add up.
  bool run() {
    while (i_ < p_.size())
      if (!step()) return false;
    return true;
  }

  // The pickle with its SETITEMs rewritten (the pickle itself if it has none).
  std::string rewritten() {
    if (setitems_.empty()) return p_;
    std::string out;
    out.reserve(p_.size() + marks_at_.size());
    std::sort(marks_at_.begin(), marks_at_.end());
    std::size_t m = 0;
    for (std::size_t i = 0; i < p_.size(); ++i) {
      while (m < marks_at_.size() && marks_at_[m] == i) {
        out += '(';
        ++m;
      }
      out += std::binary_search(setitems_.begin(), setitems_.end(), i) ? 'u' : p_[i];
    }
    return out;
  }

 private:
  // One opcode and its argument; false if it is unknown.
  bool step() {
    const std::size_t at = i_;
    const auto op = static_cast<unsigned char>(p_[i_++]);
    if (const int n = skipped_bytes(op); n >= 0) {
      i_ += static_cast<std::size_t>(n);
      return true;
    }
    if (op == '.') {  // STOP
      i_ = p_.size();
      return true;
    }
    return constant(op, at) || builds(op, at);
  }

  // The argument's size of an opcode that leaves the stack alone (PROTO,
  // FRAME, BINPUT, MEMOIZE, LONG_BINPUT); -1 for any other.
  static int skipped_bytes(unsigned char op) {
    switch (op) {
      case 0x80:  // PROTO
      case 'q':   // BINPUT
        return 1;
      case 0x95:  // FRAME
        return 8;
      case 0x94:  // MEMOIZE
        return 0;
      case 'r':  // LONG_BINPUT
        return 4;
      default:
        return -1;
    }
  }

  // An opcode that pushes one value read from its argument (or none); false
  // for any other.
  bool constant(unsigned char op, std::size_t at) {
    switch (op) {
      case 'h':  // BINGET
      case 'K':  // BININT1
        i_ += 1;
        break;
      case 'j':  // LONG_BINGET
      case 'J':  // BININT
        i_ += 4;
        break;
      case 'M':  // BININT2
        i_ += 2;
        break;
      case 'G':  // BINFLOAT
        i_ += 8;
        break;
      case 'X':
      case 'T':
      case 'B':
      case 0x8b:  // 4-byte length
        i_ += 4 + u32(i_);
        break;
      case 'U':
      case 'C':
      case 0x8a:
      case 0x8c:  // 1-byte length
        i_ += 1 + u8(i_);
        break;
      case 'c':  // GLOBAL: two lines
        skip_line();
        skip_line();
        break;
      case 'N':
      case 0x88:
      case 0x89:
      case '}':
      case ']':
      case ')':
      case '2':
        break;
      default:
        return false;
    }
    push(at);
    return true;
  }

  // An opcode that builds from the stack's top entries; false for any other.
  bool builds(unsigned char op, std::size_t at) {
    switch (op) {
      case '(':  // MARK
        push(at, true);
        break;
      case 0x85:  // TUPLE1
      case 'Q':   // BINPERSID
        push(pop(1));
        break;
      case 0x86:
      case 'R':
      case 'b':
      case 0x81:
        push(pop(2));
        break;
      case 0x87:  // TUPLE3
        push(pop(3));
        break;
      case 't':  // TUPLE
      case 'l':  // LIST
      case 'd':  // DICT
        push(to_mark());
        break;
      case 'e':  // APPENDS
      case 'u':  // SETITEMS
      case '1':  // POP_MARK
        to_mark();
        break;
      case 'a':  // APPEND
      case '0':  // POP
        pop(1);
        break;
      case 's':  // SETITEM
        setitem(at);
        break;
      default:
        return false;
    }
    return true;
  }

  void setitem(std::size_t at) {
    if (stack_.size() < 3 || is_mark_[stack_.size() - 2] || is_mark_.back())
      throw std::out_of_range("setitem");
    marks_at_.push_back(stack_[stack_.size() - 2]);
    setitems_.push_back(at);
    pop(2);
  }

  std::size_t pop(std::size_t n) {
    if (stack_.size() < n || n == 0) throw std::out_of_range("stack");
    const std::size_t start = stack_[stack_.size() - n];
    stack_.resize(stack_.size() - n);
    is_mark_.resize(is_mark_.size() - n);
    return start;
  }

  void push(std::size_t start, bool mark = false) {
    stack_.push_back(start);
    is_mark_.push_back(mark);
  }

  std::size_t to_mark() {  // pops through the top MARK; its offset
    while (!is_mark_.empty() && !is_mark_.back()) pop(1);
    if (is_mark_.empty()) throw std::out_of_range("mark");
    return pop(1);
  }

  void skip_line() {
    const auto nl = p_.find('\n', i_);
    if (nl == std::string::npos) throw std::out_of_range("global");
    i_ = nl + 1;
  }

  std::size_t u32(std::size_t at) const {
    if (at + 4 > p_.size()) throw std::out_of_range("arg");
    std::uint32_t v = 0;
    for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(p_[at + k]);
    return v;
  }

  std::size_t u8(std::size_t at) const {
    if (at >= p_.size()) throw std::out_of_range("arg");
    return static_cast<unsigned char>(p_[at]);
  }

  const std::string& p_;
  std::size_t i_ = 0;
  std::vector<std::size_t> stack_;  // start offset of each entry (a MARK too)
  std::vector<bool> is_mark_;
  std::vector<std::size_t> marks_at_, setitems_;
};

std::string setitem_as_setitems(const std::string& p) {
  PickleWalk walk(p);
  try {
    if (!walk.run()) return p;
  } catch (const std::out_of_range&) {
    return p;
  }
  return walk.rewritten();
}

// torch.save's zip file read as torch::jit::pickle_load does (data.pkl, the
// tensors' storages in data/), with SETITEM rewritten (above).
c10::IValue load_torch_save(const std::string& path) {
  caffe2::serialize::PyTorchStreamReader reader(path);
  const auto [pickle_ptr, pickle_size] = reader.getRecord("data.pkl");
  const std::string pickle = setitem_as_setitems(
      std::string(reinterpret_cast<const char*>(pickle_ptr.get()), pickle_size));
  std::size_t read = 0;
  auto read_bytes = [&](char* buffer, std::size_t len) -> std::size_t {
    len = std::min(pickle.size() - read, len);
    std::memcpy(buffer, pickle.data() + read, len);
    read += len;
    return len;
  };
  auto read_record = [&](const std::string& name) {
    return std::get<0>(reader.getRecord("data/" + name));
  };
  torch::jit::Unpickler unpickler(read_bytes, nullptr, nullptr, std::move(read_record),
                                  c10::nullopt);
  unpickler.set_version(reader.version());
  return unpickler.parse_ivalue();
}

}  // namespace

std::unique_ptr<Model> load_torchscript(const std::string& name, const std::string& path,
                                        const std::string& sidecar_path, const std::string& device,
                                        int local_rank) {
  std::error_code ec;
  PRH_CHECK_INPUT(std::filesystem::exists(path, ec),
                  "{}: cannot load TorchScript file {}: no such file", name, path);
  PRH_CHECK_INPUT(std::filesystem::is_regular_file(path, ec),
                  "{}: cannot load TorchScript file {}: not a regular file", name, path);
  Sidecar sidecar;
  try {
    sidecar = load_sidecar(sidecar_path);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", name, e.what()));
  }
  // LibTorch does not check the members' CRCs: damaged weights would load.
  if (const auto why = zip_integrity_problem(path); !why.empty())
    throw InputError(fmt::format("{}: cannot load TorchScript file {}: {}", name, path, why));
  const torch::Device dev = pick_device(name, device, local_rank);
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, dev);
  } catch (const std::exception& e) {
    throw InputError(
        fmt::format("{}: cannot load TorchScript file {}: {}", name, path, short_reason(e)));
  }
  PRH_CHECK_INPUT(module.find_method("forward").has_value(),
                  "{}: TorchScript file {} has no forward method", name, path);
  return std::make_unique<TorchScriptModel>(name, std::move(sidecar), std::move(module), dev);
}

TorchFeatures read_torch_features(const std::string& path) {
  std::error_code ec;
  PRH_CHECK_INPUT(std::filesystem::is_regular_file(path, ec),
                  "{}: no such feature file (or not a regular file)", path);
  if (const auto why = zip_integrity_problem(path); !why.empty())
    throw InputError(fmt::format("{}: not a torch.save file (zip format): {}", path, why));
  at::Tensor t;
  try {
    const c10::IValue v = load_torch_save(path);
    PRH_CHECK_INPUT(v.isGenericDict(),
                    "{}: expected torch.save of a dict with \"feats\" (PRH reference layout), got "
                    "{}",
                    path, describe(v));
    const auto dict = v.toGenericDict();
    const auto it = dict.find(c10::IValue(std::string("feats")));
    PRH_CHECK_INPUT(it != dict.end(), "{}: the saved dict has no \"feats\" key", path);
    PRH_CHECK_INPUT(it->value().isTensor(), "{}: \"feats\" is {}, not a tensor", path,
                    describe(it->value()));
    t = it->value().toTensor();
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(
        fmt::format("{}: cannot read the feature file (torch.save of a dict with "
                    "\"feats\"): {}",
                    path, short_reason(e)));
  }
  PRH_CHECK_INPUT(t.is_floating_point(), "{}: \"feats\" must be floating point, got {}", path,
                  describe(c10::IValue(t)));
  PRH_CHECK_INPUT(t.dim() == 2 || t.dim() == 3,
                  "{}: \"feats\" must have shape [N, D] or [N, L, D], got {}", path,
                  shape_str(t.sizes()));
  TorchFeatures out;
  out.shape.assign(t.sizes().begin(), t.sizes().end());
  for (auto d : out.shape)
    PRH_CHECK_INPUT(d > 0, "{}: \"feats\" is empty ({})", path, shape_str(t.sizes()));
  const at::Tensor f = t.to(torch::kCPU).to(torch::kFloat32).contiguous();
  out.data.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
  return out;
}

void set_torch_threads(int n) {
  PRH_CHECK_INPUT(n >= 1, "torch threads must be at least 1 (got {})", n);
  // Inter-op threads can be set once, before any inter-op work; later calls
  // (or a second model) keep what was set first.
  static std::once_flag once;
  std::call_once(once, [n] {
    try {
      at::set_num_interop_threads(n);
    } catch (const std::exception&) {
    }
  });
  at::set_num_threads(n);
}

}  // namespace prh::models
