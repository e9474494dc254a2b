#pragma once
// Reading YAML text (a config, a model's sidecar) with yaml-cpp without its
// endless loop: yaml-cpp 0.7's LoadAll never returns on a document that
// starts with a token no node can start with, e.g. a ',' outside [...] or
// {...} (",a]", or '"a",b]' whose second document starts at the ','): the
// parser emits an empty document without consuming the token, then the same
// one again, forever, each a new Node (found by tools/fuzz.sh: a 15-byte
// config ran for minutes and grew without bound). Header only: the callers
// link yaml-cpp themselves (prh_config, prh_models and the sidecar fuzzer).

#include <cstddef>
#include <string>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

namespace prh::config {

namespace yaml_detail {

// Records where each document starts; builds nothing (aliases unexpanded).
class DocumentStarts final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { last = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  YAML::Mark last = YAML::Mark::null_mark();
};

}  // namespace yaml_detail

// The first document of `text` (a null Node when there is none) and, in
// `documents`, how many the text holds. Throws YAML::ParserException (with
// the line and column) where yaml-cpp would loop forever, and yaml-cpp's
// own exceptions on any other invalid YAML.
inline YAML::Node load_first_yaml_document(const std::string& text, std::size_t& documents) {
  documents = 0;
  {
    std::istringstream in(text);
    YAML::Parser parser(in);
    yaml_detail::DocumentStarts starts;
    int previous = -1;
    while (parser.HandleNextDocument(starts)) {
      // A document that consumed nothing: the next starts at the same token.
      if (starts.last.pos == previous) {
        const auto at = static_cast<std::size_t>(previous);
        const std::string token = at < text.size() ? text.substr(at, 1) : std::string();
        throw YAML::ParserException(
            starts.last, "unexpected '" + token + "' where a value or a key should start" +
                             (token == "," ? " (a ',' belongs inside a [...] or {...} list)" : ""));
      }
      previous = starts.last.pos;
      ++documents;
    }
  }
  return documents == 0 ? YAML::Node() : YAML::Load(text);
}

}  // namespace prh::config
