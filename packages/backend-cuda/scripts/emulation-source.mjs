#!/usr/bin/env node
// Turns a .cu file into C++ for the CPU emulation build (CMakeLists.txt, FLINT_CUDA_EMULATION):
// every launch `kernel<<<grid, block, shared, stream>>>(args);` becomes
// `::flint_emu::launch("kernel", [=]() { kernel(args); }, grid, block, shared, stream);`, each
// thread of the grid then calling the kernel with its own copy of the arguments, as on a GPU, and
// each `__shared__` array is registered to be poisoned before every block.
// Line breaks are kept where they were and a #line directive names the .cu file, so the host
// compiler's messages point into the original source.
//
//   node scripts/emulation-source.mjs <in.cu> <out.cc>
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The index where the kernel expression ending just before `end` starts: a name, optionally with `::` and template arguments. */
function kernelStart(source, end) {
  let i = end;
  while (i > 0 && /\s/.test(source[i - 1])) i--;
  if (source[i - 1] === '>') {
    let depth = 0;
    for (i -= 1; i >= 0; i--) {
      if (source[i] === '>') depth++;
      else if (source[i] === '<' && --depth === 0) break;
    }
    if (i < 0) throw new Error(`unbalanced template arguments before the launch at offset ${end}`);
  }
  while (i > 0 && /[\w:]/.test(source[i - 1])) i--;
  return i;
}

/** The index of the parenthesis closing the one at `open`. */
function closingParenthesis(source, open) {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return i;
  }
  throw new Error(`unclosed argument list of the launch at offset ${open}`);
}

/**
 * Each `__shared__ T name[...]...;` also registers the array with the grid, which fills it with
 * 0xff bytes (NaN, -1) before every block: a kernel that reads shared memory it never wrote sees
 * garbage, as on a GPU, instead of the zeros or the last block's values a static array would hold.
 */
function registerShared(source) {
  return source.replace(/__shared__\s+([^;{}()]+?)\s+(\w+)((?:\s*\[[^\]]+\])+)\s*;/g, (declaration, _type, name) => {
    return `${declaration} static ::flint_emu::SharedArray ${name}FlintEmuShared(&${name}, sizeof(${name}));`;
  });
}

/** The emulation build's C++ for the CUDA source `source` read from `path`. */
export function emulationSource(input, path) {
  const source = registerShared(input);
  let out = '';
  let from = 0;
  for (;;) {
    const launch = source.indexOf('<<<', from);
    if (launch < 0) break;
    const configEnd = source.indexOf('>>>', launch);
    if (configEnd < 0) throw new Error(`${path}: a launch without >>> at offset ${launch}`);
    const start = kernelStart(source, launch);
    if (start < from) throw new Error(`${path}: a launch overlaps the one before it at offset ${launch}`);
    const open = source.indexOf('(', configEnd);
    if (open < 0 || source.slice(configEnd + 3, open).trim() !== '')
      throw new Error(`${path}: no argument list after >>> at offset ${configEnd}`);
    const close = closingParenthesis(source, open);
    const kernel = source.slice(start, launch);
    const config = source.slice(launch + 3, configEnd);
    const args = source.slice(open + 1, close);
    const name = kernel.replace(/\s+/g, ' ').trim();
    out += `${source.slice(from, start)}::flint_emu::launch(${JSON.stringify(name)}, [=]() { ${kernel}(${args}); }, ${config})`;
    from = close + 1;
  }
  return `#line 1 ${JSON.stringify(path)}\n${out}${source.slice(from)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node scripts/emulation-source.mjs <in.cu> <out.cc>');
    process.exit(2);
  }
  const path = resolve(input);
  mkdirSync(dirname(resolve(output)), { recursive: true });
  writeFileSync(output, emulationSource(readFileSync(path, 'utf8'), path));
}
