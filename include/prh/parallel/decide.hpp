#pragma once
// decide_on_root: rank 0 inspects (a file, a config) and decides; every rank
// gets the same value, or the same typed error. The one way prh turns a
// rank-0 decision into a collective one (no "I"/"X" prefixes, no JSON
// verdicts, no all_gather of error strings in the stages).
//
//   const auto todo = parallel::decide_on_root(session, [&] { return inspect(path); });
//
// Errors: InputError on rank 0 is an InputError everywhere (exit 2), Stopped
// a Stopped (exit 75), anything else an InternalError (exit 1), each with
// rank 0's message. The value travels as JSON (nlohmann), so T is anything
// nlohmann::json converts: bool, numbers, strings, vectors, maps, json.

#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

namespace prh::parallel {

class Session;

namespace detail {
// Runs `root` on rank 0 and broadcasts its outcome (its text, or the kind and
// message of what it threw); rethrows the same error on every rank; returns
// the text on every rank.
std::string decide_text_on_root(const Session& session, const std::function<std::string()>& root);
}  // namespace detail

template <typename F>
auto decide_on_root(const Session& session, F&& fn) -> std::invoke_result_t<F> {
  using T = std::invoke_result_t<F>;
  if constexpr (std::is_void_v<T>) {
    detail::decide_text_on_root(session, [&] {
      fn();
      return std::string();
    });
  } else if constexpr (std::is_same_v<T, std::string>) {
    return detail::decide_text_on_root(session, [&] { return fn(); });
  } else {
    const std::string text =
        detail::decide_text_on_root(session, [&] { return nlohmann::json(fn()).dump(); });
    return nlohmann::json::parse(text).get<T>();
  }
}

}  // namespace prh::parallel
