// Exceptions to exit codes and messages (see failure.hpp).
#include "pipeline/failure.hpp"

#include "io/error.hpp"

namespace pixab {

Failure classify_failure(const std::exception_ptr& error, FailureContext context) {
  try {
    std::rethrow_exception(error);
  } catch (const JobRefused& e) {
    return {kExitConfig, e.what(), true};
  } catch (const ConfigError& e) {
    return {kExitConfig, e.what()};
  } catch (const ModelError& e) {
    return {kExitConfig, e.what()};
  } catch (const Error& e) {
    if (context == FailureContext::kOneShot) return {kExitConfig, e.what()};
    return {kExitInternal, std::string("run failed: ") + e.what()};
  } catch (const std::exception& e) {
    return {kExitInternal, std::string("internal error: ") + e.what()};
  } catch (...) {
    return {kExitInternal, "internal error: an exception that is not a std::exception"};
  }
}

}  // namespace pixab
