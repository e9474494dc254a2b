// libFuzzer target: the config reader (config::parse, what `prh validate`
// and every stage run on a config file's text), then the canonical forms
// that the store and the results hash.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "prh/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  prh::fuzz::expect_input_errors_only([&] {
    const prh::config::Sweep s = prh::config::parse(text, "fuzz.yaml");
    (void)prh::config::hash_json(s.embed_params());
    for (const auto& set : s.image_sets)
      (void)prh::config::hash_json(prh::config::Sweep::image_set_json(set));
    for (const auto& m : s.models) (void)prh::config::hash_json(prh::config::Sweep::model_json(m));
  });
  return 0;
}
