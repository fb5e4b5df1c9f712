#!/usr/bin/env node
// Builds @flint/distributed-mpi's native addon with cmake-js, installing Open MPI first (apt, as
// root) when it is missing. It never fails its caller: where the addon cannot be built it
// records why in build/flint-mpi-status.json (the transport reports that reason), prints it, and
// exits 0, so the rest of Flint still builds and works on one process.
//
//   node packages/distributed-mpi/scripts/build.mjs       (or import { buildMpiTransport } from it)
//
// Environment: FLINT_MPI_SKIP_BUILD=1 skips everything; FLINT_MPI_NO_INSTALL=1 never runs apt;
// FLINT_BOOTSTRAP_VERBOSE=1 shows the compiler's output.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { buildNativeAddon, CMAKE_AND_COMPILER, commandWorks } from '@flint/native-build';

const BUILD_TIMEOUT_MS = 10 * 60 * 1000;
const MPI_FIX = 'MPI is not installed: apt-get install libopenmpi-dev openmpi-bin';

const MPI_HEADERS = [
  '/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h',
  '/usr/lib/aarch64-linux-gnu/openmpi/include/mpi.h',
  '/usr/include/x86_64-linux-gnu/openmpi/mpi.h',
  '/usr/include/openmpi/mpi.h',
  '/usr/include/mpi.h',
  '/usr/local/include/mpi.h',
  '/opt/homebrew/include/mpi.h',
];

/** What the build needs, how to find it, and the Debian package that provides it. */
const REQUIREMENTS = [
  ...CMAKE_AND_COMPILER,
  {
    name: "Open MPI's headers",
    aptPackage: 'libopenmpi-dev',
    found: () => MPI_HEADERS.some((path) => existsSync(path)) || commandWorks('mpicc', ['--showme:version']),
  },
  { name: 'mpirun', aptPackage: 'openmpi-bin', found: () => commandWorks('mpirun', ['--version']) },
];

/**
 * Builds the addon when it is missing or older than its sources. Returns `{ built: true }`, or
 * `{ built: false, reason }` (also recorded for the transport to report); never throws.
 */
export function buildMpiTransport(options = {}) {
  return buildNativeAddon(
    {
      packageUrl: new URL('../', import.meta.url),
      id: 'mpi',
      logName: 'distributed-mpi',
      subject: 'MPI transport',
      fallback: 'training runs on one process',
      description: 'Open MPI',
      buildTimeoutMs: BUILD_TIMEOUT_MS,
      requirements: REQUIREMENTS,
      sources: ['CMakeLists.txt', 'package.json', 'native/addon.cc'],
      platformProblem: () => (process.platform === 'win32' ? 'building the MPI transport on Windows is not supported yet' : null),
      missingHint: (missing) => (missing.some((requirement) => requirement.aptPackage.includes('openmpi')) ? MPI_FIX : ''),
    },
    options,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildMpiTransport();
  process.exit(0);
}
