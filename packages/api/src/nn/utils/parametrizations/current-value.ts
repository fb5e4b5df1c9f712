import { ValueError } from '../../../core/errors.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { type AnyModule, Module } from '../../module.js';
import { isParameter } from '../../parameter.js';

/** The tensor `module[name]` reads now: a parameter's, or a parametrized one's. */
export function currentValue(op: string, module: AnyModule, name: string): Tensor {
  if (!(module instanceof Module))
    throw new ValueError(`${op}: module must be an nn.Module, got ${module === null ? 'null' : typeof module}`);
  const held: unknown = (module as unknown as Record<string, unknown>)[name];
  if (isParameter(held)) return held.value;
  const own = module._ownEntries().parameters.find(([n]) => n === name);
  if (own === undefined) throw new ValueError(`${op}: ${module.constructor.name} has no parameter named '${name}'`);
  return own[1].value;
}
