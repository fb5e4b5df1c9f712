// libcublas.so.13 for the CPU emulation: the addon opens cuBLAS only to report it
// (libraries.cc: cublasCreate_v2 and cublasDestroy_v2); its products go through cuBLASLt
// (cublaslt.cc). A handle is a token the destroy call checks.
#include <cstdio>

#include "vendor_emulation.h"

FLINT_EMULATED_LIBRARY_ATTACH

namespace {
constexpr int kSuccess = 0;
constexpr int kNotInitialized = 1;
constexpr int kInvalidValue = 7;
struct Handle {
  unsigned magic = 0xb1a5u;
};
}  // namespace

extern "C" {

int cublasCreate_v2(void** handle) {
  if (handle == nullptr) return kInvalidValue;
  if (!flint_emu::vendor::attached()) {
    std::fprintf(stderr, "[flint-cuda emulation] cublasCreate_v2: this emulated cuBLAS serves only the emulated addon\n");
    return kNotInitialized;
  }
  *handle = new Handle();
  return kSuccess;
}

int cublasDestroy_v2(void* handle) {
  auto* h = static_cast<Handle*>(handle);
  if (h == nullptr || h->magic != 0xb1a5u) return kNotInitialized;
  h->magic = 0;
  delete h;
  return kSuccess;
}

int cublasGetVersion_v2(void* handle, int* version) {
  if (version == nullptr) return kInvalidValue;
  *version = 130000;
  return kSuccess;
}

}  // extern "C"
