// prh-schema-json: writes the results file's schema (src/schema/results_schema.hpp)
// as JSON to standard output, or to the file named by the one argument.
#include <fstream>
#include <iostream>

#include "results_schema.hpp"

int main(int argc, char** argv) {
  const std::string text = prh::schema::to_json();
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
