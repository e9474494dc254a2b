// libFuzzer target: an embedding store (HDF5, docs/store.md) as `prh reduce`
// reads it (store::StoreReader): its parameters, the set and model that the
// seeds hold (named "fuzzset" and "fuzzmodel": tests/fuzz/make_seeds.py),
// their done flags, every layer's features and the predictions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "fuzz_common.hpp"
#include "prh/store/embedding_reader.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = prh::fuzz::write_file("store.h5", data, size);
  prh::fuzz::expect_input_errors_only([&] {
    const prh::store::StoreReader st(path);
    (void)st.embed_params().dump();
    const std::string set = "fuzzset", model = "fuzzmodel";
    if (!st.has_set(set) || !st.has_model(model)) return;
    const prh::store::StoredSet s = st.set(set);
    prh::fuzz::require(s.labels.size() == static_cast<std::size_t>(s.n), "n labels");
    const prh::store::StoredModel m = st.model(model);
    (void)st.done(set, model);
    if (!st.has_item(set, model)) return;
    for (std::size_t l = 0; l < m.layer_dims.size() && l < 8; ++l) {
      const auto x = st.read_layer(set, model, static_cast<int>(l), m.layer_dims[l]);
      prh::fuzz::require(x.rows() == s.n && x.cols() == m.layer_dims[l], "n x dim features");
    }
    std::vector<std::int64_t> top1;
    std::vector<float> prob;
    st.read_predictions(set, model, top1, prob);
    prh::fuzz::require(top1.size() == prob.size(), "as many classes as probabilities");
  });
  return 0;
}
