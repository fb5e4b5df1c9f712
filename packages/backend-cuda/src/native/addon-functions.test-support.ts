import type { Addon } from './addon.js';

/**
 * The addon's functions that need an initialized device: the ones the tests throw bad or
 * uninitialized calls at. Adding a device function to the addon means adding it here.
 */
export const DEVICE_FUNCTIONS = [
  'emptyCache',
  'upload',
  'read',
  'free',
  'synchronize',
  'unary',
  'binary',
  'where',
  'cast',
  'copy',
  'copyInto',
  'full',
  'empty',
  'iota',
  'reduce',
  'argReduce',
  'cumulative',
  'argsort',
  'matmul',
  'conv',
  'reduceWindow',
  'gather',
  'scatterAdd',
  'randomBits',
  'randomUniform',
  'jitCompile',
  'jitLaunch',
  'ncclUniqueId',
  'ncclInit',
  'ncclCollective',
  'ncclGroup',
] as const satisfies readonly (keyof Addon)[];
