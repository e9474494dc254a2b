// prh-schema-json: writes the results file's schema (src/schema/results_schema.hpp)
// as JSON to standard output, or to the file named by the one argument; with
// --store first, the schemas of the embedding store and the preparation cache
// (src/schema/store_schema.hpp).
#include <fstream>
#include <iostream>

#include <string>

#include "results_schema.hpp"
#include "store_schema.hpp"

int main(int argc, char** argv) {
  const bool store = argc > 1 && std::string(argv[1]) == "--store";
  if (store) --argc, ++argv;
  const std::string text = store ? prh::schema::store_to_json() : prh::schema::to_json();
  if (argc < 2) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out << text;
  if (!out) {
    std::cerr << "prh-schema-json: cannot write " << argv[1] << "\n";
    return 2;
  }
  return 0;
}
