// NVRTC for the emulation build: a fused kernel's CUDA C (src/jit/codegen.ts) is compiled by the
// host C++ compiler into a shared library, with emulated_device.h in front of it and an entry per
// kernel that takes an argument array, and its "cubin" is a record naming that library (kept in the
// build's jit-cache/, named by a hash of the source and the command). The emulated
// cudaLibraryLoadData, cudaLibraryGetKernel and cudaLaunchKernel (runtime.cc) open it and run the
// kernel on the emulated grid. The compiler is $CXX, else c++; its output is the program's log.
#include "nvrtc.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef FLINT_EMU_INCLUDE_DIR
#error "FLINT_EMU_INCLUDE_DIR (native/emulation) must be defined by the build"
#endif
#ifndef FLINT_EMU_CUDA_INCLUDE_DIR
#error "FLINT_EMU_CUDA_INCLUDE_DIR (the CUDA toolkit's headers) must be defined by the build"
#endif
#if !defined(FLINT_EMU_JIT_FLAGS) || !defined(FLINT_EMU_JIT_PCH_DIR) || !defined(FLINT_EMU_JIT_CACHE_DIR)
#error "FLINT_EMU_JIT_FLAGS, FLINT_EMU_JIT_PCH_DIR and FLINT_EMU_JIT_CACHE_DIR (the fused kernels' compiler flags, precompiled header and compiled libraries) must be defined by the build"
#endif

// The program the addon's nvrtcProgram handles point at.
struct flint_cuda::_nvrtcProgram {
  std::string source;
  std::string name;
  std::string log;
  std::string record;
};

namespace flint_emu {

namespace {

using flint_cuda::nvrtcProgram;
using Program = flint_cuda::_nvrtcProgram;

constexpr int kSuccess = 0;
constexpr int kErrorInvalidInput = 3;
constexpr int kErrorInvalidProgram = 4;
constexpr int kErrorCompilation = 6;

/** The names of the `__global__ void NAME(` functions of `source`. */
std::vector<std::string> kernelNames(const std::string& source) {
  std::vector<std::string> names;
  for (size_t at = source.find("__global__"); at != std::string::npos; at = source.find("__global__", at + 1)) {
    size_t i = at + std::strlen("__global__");
    while (i < source.size() && std::isspace(static_cast<unsigned char>(source[i]))) i++;
    if (source.compare(i, 4, "void") != 0) continue;
    i += 4;
    while (i < source.size() && std::isspace(static_cast<unsigned char>(source[i]))) i++;
    const size_t start = i;
    while (i < source.size() && (std::isalnum(static_cast<unsigned char>(source[i])) || source[i] == '_')) i++;
    if (i > start) names.push_back(source.substr(start, i - start));
  }
  return names;
}

/** 64-bit FNV-1a of `text`: names a compiled library by everything that went into it. */
uint64_t fingerprint(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

/**
 * The folder of compiled kernels: the build's jit-cache/, shared by every process of this build (the
 * test projects that rerun the same kernels under another schedule compile nothing new). The
 * build empties it when it rebuilds the precompiled header, the main input a library's name does
 * not cover. Where it cannot be written (a build moved or made read-only), a folder of this
 * process's own under $TMPDIR serves instead, so that fused kernels still compile.
 */
const std::string& cacheFolder() {
  static const std::string* folder = [] {
    // The build makes it; this covers a hand-emptied cache (an existing folder is left as it is).
    mkdir(FLINT_EMU_JIT_CACHE_DIR, 0755);
    if (access(FLINT_EMU_JIT_CACHE_DIR, W_OK) == 0) return new std::string(FLINT_EMU_JIT_CACHE_DIR);
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/flint-cuda-emulated-nvrtc-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    const char* made = mkdtemp(buffer.data());
    return new std::string(made != nullptr ? made : FLINT_EMU_JIT_CACHE_DIR);
  }();
  return *folder;
}

int compile(Program& program) {
  const std::vector<std::string> kernels = kernelNames(program.source);
  if (kernels.empty()) {
    program.log = "emulated NVRTC: the program has no __global__ void function";
    return kErrorCompilation;
  }
  std::string text = "#define FLINT_EMU_JIT 1\n#include \"emulated_device.h\"\n#line 1 \"" + program.name + "\"\n" + program.source + "\n";
  // An entry per kernel that takes cudaLaunchKernel's argument array (runtime.cc calls it).
  for (const std::string& kernel : kernels) {
    text += std::string("extern \"C\" void ") + kEmulatedEntryPrefix + kernel + "(void** args) { flint_emu::callWithArguments(" + kernel +
            ", args); }\n";
  }
  const char* cxx = std::getenv("CXX");
  // The build's precompiled emulated_device.h comes first in the search; a compiler that cannot use
  // it (another one than the build's) reads the header itself.
  const std::string compiler = std::string(cxx != nullptr && *cxx != '\0' ? cxx : "c++") + " " FLINT_EMU_JIT_FLAGS " -shared -I '" FLINT_EMU_JIT_PCH_DIR
                               "' -I '" FLINT_EMU_INCLUDE_DIR "' -I '" FLINT_EMU_CUDA_INCLUDE_DIR "'";
  char name[17];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(fingerprint(compiler + '\n' + text)));
  const std::string library = cacheFolder() + "/" + program.name + "-" + name + ".so";
  program.record = std::string(kEmulatedCubinMagic) + '\n' + library;
  if (access(library.c_str(), R_OK) == 0) {
    program.log.clear();
    return kSuccess;
  }
  // This compile's own files until the library is complete, then renamed into place at once, so
  // that another process never opens a library half written.
  static int serial = 0;
  const std::string stem = cacheFolder() + "/" + program.name + "-" + std::to_string(getpid()) + "-" + std::to_string(++serial);
  {
    // Checked after closing, so that a failed flush (a full disk) is not compiled and cached.
    std::ofstream out(stem + ".cc");
    out << text;
    out.close();
    if (!out) {
      std::remove((stem + ".cc").c_str());
      program.log = "emulated NVRTC: could not write " + stem + ".cc";
      return kErrorCompilation;
    }
  }
  const std::string command = compiler + " -o '" + stem + ".so' '" + stem + ".cc' > '" + stem + ".log' 2>&1";
  const int status = std::system(command.c_str());
  {
    std::ifstream log(stem + ".log");
    std::stringstream logged;
    logged << log.rdbuf();
    program.log = logged.str();
  }
  std::remove((stem + ".cc").c_str());
  std::remove((stem + ".log").c_str());
  if (status != 0) {
    std::remove((stem + ".so").c_str());
    return kErrorCompilation;
  }
  if (std::rename((stem + ".so").c_str(), library.c_str()) != 0) {
    std::remove((stem + ".so").c_str());
    program.log += "emulated NVRTC: could not move the library to " + library;
    return kErrorCompilation;
  }
  return kSuccess;
}

const char* errorString(int result) {
  switch (result) {
    case kSuccess:
      return "NVRTC_SUCCESS";
    case kErrorInvalidInput:
      return "NVRTC_ERROR_INVALID_INPUT";
    case kErrorInvalidProgram:
      return "NVRTC_ERROR_INVALID_PROGRAM";
    case kErrorCompilation:
      return "NVRTC_ERROR_COMPILATION (emulated: the host compiler failed, see the log)";
    default:
      return "NVRTC_ERROR";
  }
}

int version(int* major, int* minor) {
  *major = 0;
  *minor = 0;
  return kSuccess;
}

int createProgram(nvrtcProgram* out, const char* source, const char* name, int, const char* const*, const char* const*) {
  if (out == nullptr || source == nullptr) return kErrorInvalidInput;
  Program* program = new Program{source, name != nullptr ? name : "kernel", "", ""};
  // A name ending in .cu names a file: keep the stem for the generated files.
  if (program->name.size() > 3 && program->name.compare(program->name.size() - 3, 3, ".cu") == 0) program->name.resize(program->name.size() - 3);
  for (char& c : program->name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) c = '_';
  }
  *out = program;
  return kSuccess;
}

int destroyProgram(nvrtcProgram* program) {
  if (program == nullptr || *program == nullptr) return kErrorInvalidProgram;
  delete *program;
  *program = nullptr;
  return kSuccess;
}

int compileProgram(nvrtcProgram program, int, const char* const*) {
  if (program == nullptr) return kErrorInvalidProgram;
  return compile(*program);
}

int logSize(nvrtcProgram program, size_t* size) {
  if (program == nullptr) return kErrorInvalidProgram;
  *size = program->log.size() + 1;
  return kSuccess;
}

int programLog(nvrtcProgram program, char* out) {
  if (program == nullptr) return kErrorInvalidProgram;
  const std::string& text = program->log;
  std::memcpy(out, text.c_str(), text.size() + 1);
  return kSuccess;
}

int cubinSize(nvrtcProgram program, size_t* size) {
  if (program == nullptr) return kErrorInvalidProgram;
  *size = program->record.size() + 1;
  return kSuccess;
}

int cubinBytes(nvrtcProgram program, char* out) {
  if (program == nullptr) return kErrorInvalidProgram;
  const std::string& record = program->record;
  std::memcpy(out, record.c_str(), record.size() + 1);
  return kSuccess;
}

}  // namespace

const flint_cuda::Nvrtc& emulatedNvrtc() {
  static const flint_cuda::Nvrtc api{errorString, version, createProgram, destroyProgram, compileProgram, logSize, programLog, cubinSize, cubinBytes};
  return api;
}

}  // namespace flint_emu
