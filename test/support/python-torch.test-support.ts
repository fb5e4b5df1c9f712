// Whether the differential tests against PyTorch can run: Debian's python3-torch behind
// /usr/bin/python3 (the README's test command installs it where the machine allows; CI may lack it).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The Python the differential tests run. */
export const PYTHON = '/usr/bin/python3';

let reason: string | undefined;

/** Why PyTorch cannot be used ('' when it can), probed once per process. */
export function torchUnavailable(): string {
  if (reason === undefined) {
    const probe = existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }) : undefined;
    reason =
      probe === undefined
        ? `${PYTHON} does not exist`
        : probe.status !== 0
          ? `\`import torch\` fails in ${PYTHON} (apt-get install python3-torch)`
          : '';
  }
  return reason;
}
