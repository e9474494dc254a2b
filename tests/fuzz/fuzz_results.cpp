// libFuzzer target: a results file (HDF5, docs/results.md) as `prh export`
// reads it (store::read_results and the groups), exported to JSON and CSV in
// a scratch folder. Seeds: tests/fuzz/results/ (tests/fuzz/make_seeds.py).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>

#include <spdlog/spdlog.h>

#include "fuzz_common.hpp"
#include "prh/pipeline/export.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  std::cout.setstate(std::ios::failbit);  // export lists the files it wrote
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = prh::fuzz::write_file("results.h5", data, size);
  const std::string out = (prh::fuzz::scratch() / "export").string();
  for (const char* format : {"json", "csv"}) {
    std::error_code ec;
    std::filesystem::remove_all(out, ec);
    prh::fuzz::expect_input_errors_only([&] { prh::pipeline::export_results(path, format, out); });
  }
  return 0;
}
