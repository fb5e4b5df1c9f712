// Bad calls through the public ops: each must raise the FlintError subclass a user can catch, with
// a message that names the op and the offending shapes or values.
import '@flint/backend-cpu';
import {
  AxisError,
  add,
  arange,
  argmax,
  type Backend,
  BackendError,
  broadcastTo,
  concat,
  conv2d,
  DisposedError,
  DTypeError,
  dot,
  einsum,
  expand,
  FlintError,
  full,
  gather,
  IndexError,
  index,
  linspace,
  matmul,
  maxPool2d,
  mean,
  mul,
  neg,
  oneHot,
  pad,
  random,
  registerBackend,
  reshape,
  ShapeError,
  scatterAdd,
  slice,
  split,
  squeeze,
  stack,
  sum,
  take,
  tensor,
  tidy,
  topk,
  transpose,
  ValueError,
  where,
  zeros,
} from '@flint/api';
import { CpuBackend } from '@flint/backend-cpu';
import { describe, expect, it } from 'vitest';

// A second backend made from the CPU one, so that mixing backends can be tested on any machine.
function twin(name: string): Backend {
  const inner = new CpuBackend() as unknown as Backend;
  return {
    name,
    capabilities: inner.capabilities,
    kernels: inner.kernels,
    fromTypedArray: (data, shape, dtype) => inner.fromTypedArray(data, shape, dtype),
    read: (handle) => inner.read(handle),
    readSync: (handle) => (inner.readSync as (h: unknown) => Float32Array)(handle),
    dispose: (handle) => inner.dispose(handle),
    memory: () => inner.memory(),
  };
}
registerBackend({ name: 'cpu-errors-twin', priority: 0, create: () => twin('cpu-errors-twin') });

type ErrorClass = new (...args: never[]) => FlintError;

interface BadCall {
  /** What the user wrote. */
  readonly call: string;
  readonly run: () => unknown;
  readonly error: ErrorClass;
  /** Fragments the message must contain: the op, then the offending shapes or values. */
  readonly message: readonly (string | RegExp)[];
}

const m23 = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
const disposed = () => {
  const t = tensor([1, 2, 3]);
  t.dispose();
  return t;
};
const untyped = <T>(value: unknown): T => value as T;

const BAD_CALLS: readonly BadCall[] = [
  // Shapes
  {
    call: 'add(tensor([1,2,3]), tensor([1,2]))',
    run: () => add(tensor([1, 2, 3]), tensor([1, 2])),
    error: ShapeError,
    message: ['add', '[3]', '[2]'],
  },
  { call: 'mul([2,3], [4])', run: () => mul(m23(), tensor([1, 2, 3, 4])), error: ShapeError, message: ['mul', '[2, 3]', '[4]'] },
  {
    call: 'where(cond [2], x [3], y)',
    run: () => where(tensor([true, false]), tensor([1, 2, 3]), 0),
    error: ShapeError,
    message: ['where', '[2]', '[3]'],
  },
  { call: 'reshape([2,3], [7])', run: () => reshape(m23(), [7]), error: ShapeError, message: ['reshape', '[2, 3]', '7'] },
  { call: 'reshape([2,3], [-1,-1])', run: () => reshape(m23(), [-1, -1]), error: ShapeError, message: ['reshape', '-1'] },
  {
    call: 'broadcastTo([3], [2,4])',
    run: () => broadcastTo(tensor([1, 2, 3]), [2, 4]),
    error: ShapeError,
    message: ['broadcastTo', '[3]', '[2, 4]'],
  },
  { call: 'expand([2,3], 4, 3)', run: () => expand(m23(), 4, 3), error: ShapeError, message: ['expand', '[2, 3]'] },
  { call: 'matmul([2,3], [4,5])', run: () => matmul(m23(), zeros([4, 5])), error: ShapeError, message: ['matmul', '[2, 3]', '[4, 5]'] },
  { call: 'matmul(scalar, [2,3])', run: () => matmul(tensor(2), m23()), error: ShapeError, message: ['matmul', '[]'] },
  { call: 'dot([3], [4])', run: () => dot(tensor([1, 2, 3]), tensor([1, 2, 3, 4])), error: ShapeError, message: ['dot', '3', '4'] },
  {
    call: "einsum('ij,jk->ik', [2,3], [2,3])",
    run: () => einsum('ij,jk->ik', m23(), m23()),
    error: ShapeError,
    message: ['einsum', 'j', '3', '2'],
  },
  {
    call: 'concat([[2,3], [2,4]], 0)',
    run: () => concat([m23(), zeros([2, 4])], 0),
    error: ShapeError,
    message: ['concat', '[2, 3]', '[2, 4]'],
  },
  { call: 'stack([[3], [2]])', run: () => stack([tensor([1, 2, 3]), tensor([1, 2])]), error: ShapeError, message: ['stack', '[3]', '[2]'] },
  { call: 'split([5], [2, 2])', run: () => split(tensor([1, 2, 3, 4, 5]), [2, 2]), error: ValueError, message: ['split', '5', '[2,2]'] },
  { call: 'squeeze([2,3], 0)', run: () => squeeze(m23(), 0), error: ShapeError, message: ['squeeze', '0', '2'] },
  { call: 'zeros([2,-1])', run: () => zeros([2, -1]), error: ShapeError, message: ['zeros', '-1'] },
  { call: 'tensor([[1,2],[3]]) (ragged)', run: () => tensor([[1, 2], [3]]), error: ShapeError, message: ['tensor', 'ragged'] },
  {
    call: 'tensor(Float32Array(5), {shape: [2,3]})',
    run: () => tensor(new Float32Array(5), { shape: [2, 3] }),
    error: ShapeError,
    message: ['tensor', '[2,3]', '5'],
  },
  {
    call: 'conv2d(input with 3 channels, weight expecting 2)',
    run: () => conv2d(zeros([1, 3, 5, 5]), zeros([4, 2, 3, 3])),
    error: ShapeError,
    message: ['conv', '3', '[4, 2, 3, 3]'],
  },
  {
    call: 'conv2d(3 channels, groups: 2)',
    run: () => conv2d(zeros([1, 3, 5, 5]), zeros([4, 1, 3, 3]), { groups: 2 }),
    error: ShapeError,
    message: ['conv', '3', 'groups'],
  },
  { call: 'conv2d(rank-2 input)', run: () => conv2d(zeros([5, 5]), zeros([4, 3, 3, 3])), error: ShapeError, message: ['conv2d', '[5, 5]'] },
  {
    call: 'scatterAdd(x [3,2], 0, index [2,2], src [1,2])',
    run: () =>
      scatterAdd(
        zeros([3, 2]),
        0,
        tensor([
          [0, 1],
          [2, 0],
        ]),
        zeros([1, 2]),
      ),
    error: ShapeError,
    message: ['scatterAdd', 'index', '2', 'src', '1'],
  },
  // Axes
  { call: 'sum([2,3], 5)', run: () => sum(m23(), 5), error: AxisError, message: ['sum', '5', 'rank 2'] },
  { call: 'sum([2,3], [0,0])', run: () => sum(m23(), [0, 0]), error: AxisError, message: ['sum', '0', 'repeated'] },
  { call: 'mean([2,3], -3)', run: () => mean(m23(), -3), error: AxisError, message: ['mean', '-3'] },
  { call: 'argmax([2,3], 2)', run: () => argmax(m23(), 2), error: AxisError, message: ['argmax', '2'] },
  { call: 'transpose([2,3], [0,0])', run: () => transpose(m23(), [0, 0]), error: AxisError, message: ['transpose', '[0,0]'] },
  { call: 'transpose([2,3], [1])', run: () => transpose(m23(), [1]), error: AxisError, message: ['transpose', '[1]', '2'] },
  { call: 'topk([3], 2, axis 1)', run: () => topk(tensor([3, 1, 2]), 2, 1), error: AxisError, message: ['topk', '1'] },
  // Indices
  { call: 'take([1,2,3], [5])', run: () => take(tensor([1, 2, 3]), [5]), error: IndexError, message: ['take', '5', '3'] },
  { call: 'take([1,2,3], [-4])', run: () => take(tensor([1, 2, 3]), [-4]), error: IndexError, message: ['take', '-4'] },
  { call: 'gather([2,3], 1, index 3)', run: () => gather(m23(), 1, tensor([[0], [3]])), error: IndexError, message: ['gather', '3'] },
  { call: 'index([2,3], 2)', run: () => index(m23(), 2), error: IndexError, message: ['2'] },
  { call: 'oneHot([0, 4], 3)', run: () => oneHot(tensor([0, 4]), 3), error: IndexError, message: ['oneHot', '4', '3'] },
  { call: 'topk([3], 5)', run: () => topk(tensor([3, 1, 2]), 5), error: ValueError, message: ['topk', '5', '3'] },
  // Dtypes
  {
    call: "tensor([1,2], {dtype: 'float8'})",
    run: () => tensor([1, 2], { dtype: untyped('float8') }),
    error: DTypeError,
    message: ['tensor', 'float8'],
  },
  { call: "zeros([2], {dtype: 'int64'})", run: () => zeros([2], { dtype: untyped('int64') }), error: DTypeError, message: ['int64'] },
  { call: 'neg(bool tensor)', run: () => neg(tensor([true, false])), error: DTypeError, message: ['neg', 'bool'] },
  { call: 'tensor(Int16Array)', run: () => tensor(untyped(new Int16Array(2))), error: DTypeError, message: ['tensor', 'Int16Array'] },
  { call: 'take(x, float indices)', run: () => take(tensor([1, 2, 3]), tensor([0.5])), error: DTypeError, message: ['take', 'float32'] },
  // Values
  { call: 'slice([4], [0], [4], [0])', run: () => slice(tensor([1, 2, 3, 4]), [0], [4], [0]), error: ValueError, message: ['slice', '0'] },
  { call: 'pad([3], [[-1, 0]])', run: () => pad(tensor([1, 2, 3]), [[-1, 0]]), error: ValueError, message: ['pad', '-1'] },
  { call: 'arange(0, 10, 0)', run: () => arange(0, 10, 0), error: ValueError, message: ['arange', 'step'] },
  { call: 'linspace(0, 1, -2)', run: () => linspace(0, 1, -2), error: ValueError, message: ['linspace', '-2'] },
  { call: "full([2], 'x')", run: () => full([2], untyped('x')), error: ValueError, message: ['full', 'string'] },
  { call: 'tensor([1, 2]).item()', run: () => tensor([1, 2]).item(), error: ValueError, message: ['item', '[2]'] },
  { call: 'maxPool2d([1,1,2,2], kernel 0)', run: () => maxPool2d(zeros([1, 1, 2, 2]), 0), error: ValueError, message: ['maxPool2d', '0'] },
  { call: 'random.uniform(not a key, [2])', run: () => random.uniform(tensor([1, 2, 3]), [2]), error: ValueError, message: ['key', '[3]'] },
  { call: 'tidy(async () => ...)', run: () => tidy(untyped(async () => tensor(1))), error: ValueError, message: ['tidy', 'Promise'] },
  // Memory and backends
  { call: 'add(disposed, 1)', run: () => add(disposed(), 1), error: DisposedError, message: ['add', 'disposed', '[3]'] },
  { call: 'disposed.dataSync()', run: () => disposed().dataSync(), error: DisposedError, message: ['dataSync', 'disposed'] },
  { call: 'sum(disposed)', run: () => sum(disposed()), error: DisposedError, message: [/sum/i, 'disposed', '[3]'] },
  {
    call: 'add(cpu tensor, other backend tensor)',
    run: () => add(tensor([1, 2]), tensor([3, 4], { backend: 'cpu-errors-twin' })),
    error: BackendError,
    message: ['add', "'cpu'", "'cpu-errors-twin'"],
  },
  { call: "tensor([1], {backend: 'nope'})", run: () => tensor([1], { backend: 'nope' }), error: BackendError, message: ['nope', 'cpu'] },
];

describe('bad calls raise the right FlintError with a useful message', () => {
  it.each(BAD_CALLS.map((c) => [c.call, c] as const))('%s', (_call, bad) => {
    let thrown: unknown;
    try {
      bad.run();
    } catch (error) {
      thrown = error;
    }
    expect(thrown, 'no error was raised').toBeInstanceOf(Error);
    const error = thrown as Error;
    expect(error, `${error.name}: ${error.message}`).toBeInstanceOf(bad.error);
    expect(error).toBeInstanceOf(FlintError);
    expect(error.name).toBe(bad.error.name);
    for (const fragment of bad.message) {
      if (typeof fragment === 'string') expect(error.message).toContain(fragment);
      else expect(error.message).toMatch(fragment);
    }
  });

  it('covers every FlintError subclass a user can meet in ops', () => {
    const classes = new Set(BAD_CALLS.map((c) => c.error.name));
    expect([...classes].sort()).toEqual([
      'AxisError',
      'BackendError',
      'DTypeError',
      'DisposedError',
      'IndexError',
      'ShapeError',
      'ValueError',
    ]);
  });
});
