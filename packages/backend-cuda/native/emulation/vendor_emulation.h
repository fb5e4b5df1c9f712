// What the emulated vendor libraries (libcublasLt.so.13, libcublas.so.13 and libcudnn.so.9 of
// native/emulation/) share with the emulated addon that opens them. Their "device" pointers are
// host memory handed out by the emulated runtime (runtime.cc), which lives in the addon: when the
// addon opens one of these libraries (libraries.cc) it hands over the runtime's check of live
// allocations through flintEmulationAttach, so that every operand a call reads or writes can be
// checked to lie inside one live allocation, as a real GPU would fault if it did not. A library
// nobody attached (opened by the real, nvcc-built addon) refuses all work instead of touching
// device pointers from the host.
#pragma once

#include <cstddef>

namespace flint_emu {

/** Whether [address, address + bytes) lies inside one live emulated device allocation. */
using LiveRangeCheck = bool (*)(const void* address, size_t bytes);

/** The emulated runtime's check (runtime.cc), handed to each emulated library the addon opens. */
bool liveDeviceRange(const void* address, size_t bytes);

/** The name each emulated library exports its attach function under. */
constexpr const char* kAttachSymbol = "flintEmulationAttach";

namespace vendor {

inline LiveRangeCheck& attachedCheck() {
  static LiveRangeCheck check = nullptr;
  return check;
}

/** Whether the addon attached this library (false: it was opened by something else). */
inline bool attached() { return attachedCheck() != nullptr; }

/** Whether [address, address + bytes) lies inside one live device allocation (empty ranges do). */
inline bool deviceRange(const void* address, size_t bytes) {
  return attached() && (bytes == 0 || attachedCheck()(address, bytes));
}

}  // namespace vendor
}  // namespace flint_emu

/** Defines the exported attach function; each emulated library's source says it once. */
#define FLINT_EMULATED_LIBRARY_ATTACH                                                                       \
  extern "C" __attribute__((visibility("default"))) void flintEmulationAttach(flint_emu::LiveRangeCheck check) { \
    flint_emu::vendor::attachedCheck() = check;                                                             \
  }
