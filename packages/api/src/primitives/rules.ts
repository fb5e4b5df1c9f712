import { binaryRules, castRule, unaryRules, whereRule } from './elementwise.js';
import {
  argsortRule,
  convRule,
  cumulativeRule,
  dotGeneralRule,
  fullRule,
  iotaRule,
  randomBitsRule,
  randomUniformRule,
  reduceWindowRule,
} from './linalg.js';
import {
  broadcastRule,
  concatRule,
  flipRule,
  gatherRule,
  padRule,
  reshapeRule,
  scatterAddRule,
  sliceRule,
  transposeRule,
} from './movement.js';
import { Primitive } from './primitive.js';
import { reduceRules } from './reduce.js';
import type { RuleTable } from './rule.js';

/** Every primitive's rules, indexed by the Primitive enum. Typed so a missing entry fails to compile. */
export const RULES: RuleTable = {
  ...unaryRules,
  ...binaryRules,
  [Primitive.Where]: whereRule,
  [Primitive.Cast]: castRule,
  ...reduceRules,
  [Primitive.Reshape]: reshapeRule,
  [Primitive.Transpose]: transposeRule,
  [Primitive.Broadcast]: broadcastRule,
  [Primitive.Slice]: sliceRule,
  [Primitive.Pad]: padRule,
  [Primitive.Concat]: concatRule,
  [Primitive.Flip]: flipRule,
  [Primitive.Gather]: gatherRule,
  [Primitive.ScatterAdd]: scatterAddRule,
  [Primitive.DotGeneral]: dotGeneralRule,
  [Primitive.Conv]: convRule,
  [Primitive.ReduceWindow]: reduceWindowRule,
  [Primitive.Cumulative]: cumulativeRule,
  [Primitive.Argsort]: argsortRule,
  [Primitive.Iota]: iotaRule,
  [Primitive.Full]: fullRule,
  [Primitive.RandomBits]: randomBitsRule,
  [Primitive.RandomUniform]: randomUniformRule,
};
