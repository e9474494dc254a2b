#include "prh/parallel/decide.hpp"

#include "prh/core/error.hpp"
#include "prh/parallel/mpi.hpp"

namespace prh::parallel::detail {

namespace {
// What rank 0's function did, as broadcast.
enum class Outcome : char { kValue = 'V', kInput = 'I', kStopped = 'S', kInternal = 'X' };
}  // namespace

std::string decide_text_on_root(const Session& session, const std::function<std::string()>& root) {
  std::string message;
  if (session.root()) {
    try {
      message = static_cast<char>(Outcome::kValue) + root();
    } catch (const InputError& e) {
      message = static_cast<char>(Outcome::kInput) + std::string(e.what());
    } catch (const Stopped& e) {
      message = static_cast<char>(Outcome::kStopped) + std::string(e.what());
    } catch (const std::exception& e) {
      message = static_cast<char>(Outcome::kInternal) + std::string(e.what());
    }
  }
  message = session.broadcast(message);
  PRH_ASSERT(!message.empty(), "decide_on_root: empty broadcast");
  const std::string text = message.substr(1);
  switch (static_cast<Outcome>(message[0])) {
    case Outcome::kValue:
      return text;
    case Outcome::kInput:
      throw InputError(text);
    case Outcome::kStopped:
      throw Stopped(text);
    case Outcome::kInternal:
      throw InternalError(text);
  }
  throw InternalError("decide_on_root: unknown outcome '" + message.substr(0, 1) + "'");
}

}  // namespace prh::parallel::detail
