// The CPU emulation build's stand-in for <cuda_runtime.h>, found before the toolkit's own when the
// kernels (.cu) are compiled by the host compiler (CMakeLists.txt, FLINT_CUDA_EMULATION). It keeps
// the runtime API's types and declarations from the toolkit's headers and replaces the device
// side: qualifiers, the built-in index variables, barriers, shuffles, atomics and the few device
// math functions the host library lacks (emulated_device.h).
#pragma once

#include <cuda_runtime_api.h>

#include "emulated_device.h"
