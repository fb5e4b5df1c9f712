import type { Backend } from '../backend/spi.js';
import { BackendError, DisposedError } from '../core/errors.js';
import { isContainer } from '../core/pytree.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Tracer } from '../transforms/core.js';

// The cache key of a call: the structure of the arguments, each tensor's dtype and shape, the
// backend, and the value of everything that is not a tensor (static arguments, and numbers or
// strings inside the others). Objects that are neither tensors nor plain containers (modules,
// functions) count by identity. One walk computes the key and collects the tensor leaves in
// the order core/pytree's treeFlatten gives them.

const identities = new WeakMap<object, number>();
let nextIdentity = 0;

function identityOf(value: object): number {
  let id = identities.get(value);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(value, id);
  }
  return id;
}

export interface CallSignature {
  readonly key: string;
  /** The tensor leaves of the non-static arguments, in flattening order. */
  readonly tensors: Tensor[];
  /** For each tensor leaf, the position of the argument it is in. */
  readonly argumentOf: number[];
  /** The backend every tensor lives on (null when there are no tensors). */
  readonly backend: Backend | null;
  /** Whether some tensor is a tracer of an enclosing transform (then jit runs inline). */
  readonly traced: boolean;
  /** Whether some tensor takes part in the imperative tape. */
  readonly recorded: boolean;
}

function numberKey(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

/** Key and tensor leaves of a call of a jitted function. */
export function signatureOf(op: string, args: readonly unknown[], statics: ReadonlySet<number>): CallSignature {
  const tensors: Tensor[] = [];
  const argumentOf: number[] = [];
  let argument = 0;
  let backend: Backend | null = null;
  let traced = false;
  let recorded = false;
  const valueKey = (node: unknown): string => {
    switch (typeof node) {
      case 'number':
        return `#${numberKey(node)}`;
      case 'string':
        return JSON.stringify(node);
      case 'boolean':
        return node ? 'true' : 'false';
      case 'undefined':
        return 'u';
      case 'object':
        return node === null ? 'n' : `@${identityOf(node)}`;
      case 'function':
        return `@${identityOf(node)}`;
      default:
        return String(node);
    }
  };
  const walk = (node: unknown): string => {
    if (isTensor(node)) {
      if (node instanceof Tracer) traced = true;
      else {
        if (node._handle === undefined)
          throw new DisposedError(`${op}: argument tensor of shape [${node.shape.join(',')}] (${node.dtype}) was disposed`);
        const b = node._backend as Backend;
        if (backend === null) backend = b;
        else if (b !== backend) {
          throw new BackendError(
            `${op}: arguments live on different backends ('${backend.name}' and '${b.name}'); move them with t.to('${backend.name}')`,
          );
        }
        if (node._autograd !== null) recorded = true;
      }
      tensors.push(node);
      argumentOf.push(argument);
      return `${node.dtype}[${node.shape.join(',')}]`;
    }
    if (isContainer(node)) {
      if (Array.isArray(node)) {
        let key = '[';
        for (const child of node) key += `${walk(child)},`;
        return `${key}]`;
      }
      let key = '{';
      const record = node as Record<string, unknown>;
      for (const k of Object.keys(record)) key += `${k}:${walk(record[k])},`;
      return `${key}}`;
    }
    return valueKey(node);
  };
  let key = '';
  for (let i = 0; i < args.length; i++) {
    argument = i;
    key += statics.has(i) ? `s${valueKeyDeep(args[i], valueKey)};` : `${walk(args[i])};`;
  }
  return { key, tensors, argumentOf, backend, traced, recorded };
}

/** A static argument's key: containers by content, tensors and other objects by identity. */
function valueKeyDeep(node: unknown, leaf: (v: unknown) => string): string {
  if (isContainer(node)) {
    if (Array.isArray(node)) return `[${node.map((c) => valueKeyDeep(c, leaf)).join(',')}]`;
    const record = node as Record<string, unknown>;
    return `{${Object.keys(record)
      .map((k) => `${k}:${valueKeyDeep(record[k], leaf)}`)
      .join(',')}}`;
  }
  return leaf(node);
}
