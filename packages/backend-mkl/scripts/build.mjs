#!/usr/bin/env node
// Builds @flint/backend-mkl's native addon with cmake-js, installing the system libraries first
// (apt, as root) when they are missing. It never fails its caller: where the addon cannot be
// built it records why in build/flint-mkl-status.json (the backend reports that reason when
// asked to start), prints it, and exits 0, so the rest of Flint still builds and works.
//
//   node packages/backend-mkl/scripts/build.mjs       (or import { buildMklBackend } from it)
//
// Environment: FLINT_MKL_SKIP_BUILD=1 skips everything; FLINT_MKL_NO_INSTALL=1 never runs apt;
// FLINT_MKL_PORTABLE=1 builds for any x86-64 instead of this CPU; FLINT_BOOTSTRAP_VERBOSE=1
// shows the compiler's output.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildNativeAddon, CMAKE_AND_COMPILER } from '@flint/native-build';

const BUILD_TIMEOUT_MS = 20 * 60 * 1000;

/** What the build needs, how to find it, and the Debian package that provides it. */
const REQUIREMENTS = [
  ...CMAKE_AND_COMPILER,
  {
    // softmax_v2 came in oneDNN 2.6; oneDNN 3 dropped the operation descriptors the addon uses.
    // CMakeLists.txt checks the version CMake finds too; this names the package before CMake runs.
    name: 'oneDNN 2.6 or a later 2.x',
    aptPackage: 'libdnnl-dev',
    found: () => oneDnnSuitable([process.env.DNNLROOT, process.env.DNNL_ROOT]),
  },
  {
    // Debian's oneDNN is built with its OpenCL GPU runtime, and its CMake package then asks for
    // OpenCL's headers and library (find_package(OpenCL REQUIRED)), though the addon uses only
    // the CPU engine. apt only recommends them with libdnnl-dev.
    name: "OpenCL's headers and library (oneDNN's CMake package asks for them)",
    aptPackage: 'ocl-icd-opencl-dev',
    found: () => !oneDnnAsksForOpenCl([process.env.DNNLROOT, process.env.DNNL_ROOT]) || headerFound(['CL/cl.h'], []),
  },
  {
    name: 'a CBLAS (Intel MKL or OpenBLAS)',
    aptPackage: 'libopenblas-dev',
    found: () =>
      headerFound(
        ['cblas.h', 'openblas/cblas.h', 'x86_64-linux-gnu/cblas.h', 'aarch64-linux-gnu/cblas.h', 'mkl_cblas.h'],
        [process.env.MKLROOT],
      ),
  },
];

/** The first of `relativePaths` found under the usual include folders and those of `roots`, or null. */
function findHeader(relativePaths, roots) {
  const includeDirs = ['/usr/include', '/usr/local/include', '/opt/homebrew/include', '/opt/intel/oneapi/mkl/latest/include'];
  for (const root of roots) if (root) includeDirs.push(join(root, 'include'));
  for (const prefix of (process.env.CMAKE_PREFIX_PATH ?? '').split(':')) if (prefix) includeDirs.push(join(prefix, 'include'));
  for (const dir of includeDirs) for (const path of relativePaths) if (existsSync(join(dir, path))) return join(dir, path);
  return null;
}

function headerFound(relativePaths, roots) {
  return findHeader(relativePaths, roots) !== null;
}

/** Whether oneDNN's headers are there and say 2.6 or a later 2.x (`dnnl_version.h`). */
function oneDnnSuitable(roots) {
  const header = findHeader(['oneapi/dnnl/dnnl_version.h'], roots);
  if (header === null) return false;
  try {
    const text = readFileSync(header, 'utf8');
    const major = Number(/#define\s+DNNL_VERSION_MAJOR\s+(\d+)/.exec(text)?.[1]);
    const minor = Number(/#define\s+DNNL_VERSION_MINOR\s+(\d+)/.exec(text)?.[1]);
    return major === 2 && minor >= 6;
  } catch {
    return false;
  }
}

/** Whether the oneDNN CMake package CMake will find was built with the OpenCL GPU runtime. */
function oneDnnAsksForOpenCl(roots) {
  const libDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib', '/usr/lib64'];
  for (const root of roots) if (root) libDirs.unshift(join(root, 'lib'), join(root, 'lib64'));
  for (const dir of libDirs) {
    const config = join(dir, 'cmake', 'dnnl', 'dnnl-config.cmake');
    if (!existsSync(config)) continue;
    try {
      return /set\(DNNL_GPU_RUNTIME\s+"OCL"\)/.test(readFileSync(config, 'utf8'));
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * What the CPU can run: the instruction-set flags on Linux, else the model name. An addon built
 * with -march=native for one CPU can die of an illegal instruction on another, so the stamp
 * records this and src/native/load.ts refuses an addon built for a different CPU.
 */
export function cpuSignature() {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m);
    if (flags) return createHash('sha256').update(flags[1].trim()).digest('hex');
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** This CPU (or a portable build): recorded in the stamp, so objects built for another are rebuilt. */
function configuration() {
  const portable = Boolean(process.env.FLINT_MKL_PORTABLE);
  return { stamp: { portable, cpu: cpuSignature() }, defines: [`--CDFLINT_MKL_PORTABLE=${portable ? 'ON' : 'OFF'}`] };
}

/**
 * Builds the addon when it is missing or older than its sources. Returns `{ built: true }`,
 * or `{ built: false, reason }` (also recorded for the backend to report); never throws.
 */
export function buildMklBackend(options = {}) {
  return buildNativeAddon(
    {
      packageUrl: new URL('../', import.meta.url),
      id: 'mkl',
      logName: 'backend-mkl',
      subject: 'mkl backend',
      fallback: 'the portable cpu backend is used instead',
      description: 'oneDNN + CBLAS',
      buildTimeoutMs: BUILD_TIMEOUT_MS,
      requirements: REQUIREMENTS,
      configuration,
      // A portable build runs on any CPU; one for this CPU only here.
      stampMatches: (stamp, { stamp: current }) => stamp.portable === current.portable && (current.portable || stamp.cpu === current.cpu),
      platformProblem: () => (process.platform === 'win32' ? 'building the native addon on Windows is not supported yet' : null),
    },
    options,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildMklBackend();
  process.exit(0);
}
