// What the vendor paths (blas.cc, dnn.cc, dnn_batch_norm.cc) share: how a failed library call is
// recorded (see vendor.h).
#include "vendor.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>

#include "state.h"

namespace flint_cuda {

namespace {

bool strictVendor() {
  static const bool strict = [] {
    const char* value = std::getenv("FLINT_CUDA_STRICT_VENDOR");
    return value != nullptr && std::strcmp(value, "1") == 0;
  }();
  return strict;
}

/**
 * Says each distinct failure once on stderr, as PyTorch's warn-once does: a library refusing a call
 * the addon made is rare and worth seeing (on a first GPU run above all), but not once per op.
 */
void warnOnce(const std::string& failure) {
  static std::set<std::string> said;
  constexpr size_t kMostSaid = 16;
  if (said.size() >= kMostSaid || !said.insert(failure).second) return;
  std::fprintf(stderr, "[flint-cuda] a vendor library call failed: %s\n", failure.c_str());
}

}  // namespace

bool vendorFailure(std::string& why, const std::string& failure) {
  why = failure;
  state().counters.vendorFailures++;
  // Thrown through the N-API entry point as a JS error (NODE_ADDON_API_CPP_EXCEPTIONS_ALL).
  if (strictVendor()) throw std::runtime_error("a vendor library call failed (FLINT_CUDA_STRICT_VENDOR=1): " + failure);
  warnOnce(failure);
  return false;
}

}  // namespace flint_cuda
