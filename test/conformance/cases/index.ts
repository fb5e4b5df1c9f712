import { Primitive } from '@flint/api';
import { fullTable, iotaTable, randomBitsTable, randomUniformTable } from './creation.js';
import { castTable, elementwiseTables, whereTable } from './elementwise.js';
import { convTable, dotGeneralTable, reduceWindowTable } from './linalg.js';
import { movementTables } from './movement.js';
import { reduceTables } from './reduce.js';
import { argsortTable, cumulativeTable } from './scan.js';
import type { CaseTables } from './types.js';

/** Every primitive's table of conformance cases, in one place. */
export const CASES: CaseTables = {
  ...elementwiseTables,
  [Primitive.Where]: whereTable,
  [Primitive.Cast]: castTable,
  ...reduceTables,
  ...movementTables,
  [Primitive.DotGeneral]: dotGeneralTable,
  [Primitive.Conv]: convTable,
  [Primitive.ReduceWindow]: reduceWindowTable,
  [Primitive.Cumulative]: cumulativeTable,
  [Primitive.Argsort]: argsortTable,
  [Primitive.Iota]: iotaTable,
  [Primitive.Full]: fullTable,
  [Primitive.RandomBits]: randomBitsTable,
  [Primitive.RandomUniform]: randomUniformTable,
};
