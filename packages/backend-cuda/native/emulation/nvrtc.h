// The emulation build's NVRTC (nvrtc.cc): the addon's Nvrtc table (native/libraries.h), filled
// by libraries.cc from here in the emulation build, and the record its "cubin" holds, read back by
// the emulated cudaLibraryLoadData (runtime.cc).
#pragma once

#include "../libraries.h"

namespace flint_emu {

/** The first line of an emulated cubin; the second is the shared library's path. */
constexpr const char* kEmulatedCubinMagic = "flint-emulated-cubin";
/** The library's entry for kernel K is `void <prefix>K(void** args)`. */
constexpr const char* kEmulatedEntryPrefix = "flint_emu_entry_";

const flint_cuda::Nvrtc& emulatedNvrtc();

}  // namespace flint_emu
