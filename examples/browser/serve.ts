// Builds the browser page and serves it, to open by hand:
//
//   pnpm exec tsx examples/browser/serve.ts [--port 8080]
//
// then open the printed address in Chrome or Edge (WebGPU), or any browser (CPU fallback).
import { buildPage } from './build.js';
import { serveDirectory } from './server.js';

const portFlag = process.argv.indexOf('--port');
const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 8080;
if (!Number.isInteger(port) || port < 0 || port > 65535)
  throw new RangeError(`serve: --port must be 0..65535, got ${process.argv[portFlag + 1]}`);

const page = await buildPage();
const server = await serveDirectory(page.directory, port);
console.log(`serving ${page.directory} at ${server.url} (Ctrl-C stops)`);
