import '@flint/backend-cpu';
import {
  checkpoint,
  customJvp,
  customVjp,
  grad,
  jit,
  jvp,
  manualSeed,
  nn,
  randn,
  stopGradient,
  type Tensor,
  tensor,
  ValueError,
  vjp,
  vmap,
} from '@flint/api';
import { describe, expect, it } from 'vitest';

const f64 = (data: number | number[] | number[][]): Tensor => tensor(data, { dtype: 'float64' });
const values = (t: unknown): number[] => Array.from((t as Tensor).dataSync() as ArrayLike<number>);
const close = (t: unknown, expected: number[]) =>
  expect(values(t).map((v) => Number(v.toFixed(9)))).toEqual(expected.map((v) => Number(v.toFixed(9))));

// log(1 + exp(x)) with a rule that stays finite for large x, where the naive derivative is NaN.
const softplus = customJvp(
  (x: Tensor) => x.exp().log1p(),
  ([x], [t]) => [x.exp().log1p(), t.mul(x.sigmoid())],
);

// Straight-through rounding: the forward rounds, the gradient passes through unchanged.
let backwardCalls = 0;
const roundSte = customVjp((x: Tensor) => x.round(), {
  fwd: (x) => [x.round(), null],
  bwd: (_, g) => {
    backwardCalls++;
    return [g];
  },
});

// A rule that scales the gradient of x * y, to tell it apart from the true derivative.
const scaledProduct = customVjp((x: Tensor, y: Tensor) => x.mul(y), {
  fwd: (x, y) => [x.mul(y), { x, y }],
  bwd: ({ x, y }, g) => [g.mul(y).mul(10), g.mul(x).mul(10)],
});

describe('customJvp', () => {
  it('uses the rule in forward mode', () => {
    const [, t] = jvp(softplus, [f64([1000])], [f64([1])]);
    close(t, [1]);
  });

  it('transposes the rule for reverse mode', () => {
    close(grad((x: Tensor) => softplus(x).sum())(f64([1000, 0])), [1, 0.5]);
  });

  it('works under vmap and in nestings', () => {
    close(vmap(grad((x: Tensor) => softplus(x)))(f64([0, 1000])), [0.5, 1]);
    close(grad((x: Tensor) => vmap(softplus)(x).sum())(f64([0, 1000])), [0.5, 1]);
    // Second derivative through the rule: d/dx sigmoid(x) = 1/4 at 0.
    close(grad(grad((x: Tensor) => softplus(x)))(f64(0)), [0.25]);
  });
});

describe('customVjp', () => {
  it('replaces the gradient', () => {
    backwardCalls = 0;
    close(grad((x: Tensor) => roundSte(x).sum())(f64([0.3, 1.7])), [1, 1]);
    expect(backwardCalls).toBe(1);
    const [dx, dy] = grad((x: Tensor, y: Tensor) => scaledProduct(x, y).sum(), { argnums: [0, 1] })(f64([2]), f64([3]));
    close(dx, [30]);
    close(dy, [20]);
  });

  it('works under vmap, including arguments that are not batched', () => {
    const perExample = vmap(
      grad((x: Tensor, y: Tensor) => scaledProduct(x, y)),
      { inAxes: [0, null] },
    )(f64([1, 2]), f64(3));
    close(perExample, [30, 30]);
    const [dx, dy] = grad((x: Tensor, y: Tensor) => vmap((a: Tensor) => scaledProduct(a, y), { inAxes: 0 })(x).sum(), { argnums: [0, 1] })(
      f64([1, 2]),
      f64(3),
    );
    close(dx, [30, 30]);
    close(dy, [30]);
  });

  it('raises in forward mode, as JAX does', () => {
    expect(() => jvp(roundSte, [f64([1])], [f64([1])])).toThrow(ValueError);
    expect(() => jvp(roundSte, [f64([1])], [f64([1])])).toThrow(/customJvp/);
  });

  it('differentiates its backward rule for higher derivatives', () => {
    const cube = customVjp((x: Tensor) => x.pow(3), {
      fwd: (x) => [x.pow(3), x],
      bwd: (x, g) => [g.mul(x.square()).mul(3)],
    });
    close(grad(grad((x: Tensor) => cube(x)))(f64(2)), [12]);
    // Forward over reverse never applies forward mode to the custom call itself.
    close(
      jvp(
        grad((x: Tensor) => cube(x)),
        [f64(2)],
        [f64(1)],
      )[1],
      [12],
    );
  });

  it("accepts null cotangents and checks the rule's output", () => {
    const firstOnly = customVjp((x: Tensor, y: Tensor) => x.add(y), { fwd: (x, y) => [x.add(y), null], bwd: (_, g) => [g, null] });
    const [dx, dy] = grad((x: Tensor, y: Tensor) => firstOnly(x, y).sum(), { argnums: [0, 1] })(f64([1]), f64([2]));
    close(dx, [1]);
    close(dy, [0]);
    const broken = customVjp((x: Tensor) => x, { fwd: (x) => [x, null], bwd: () => [] as never });
    expect(() => grad((x: Tensor) => broken(x).sum())(f64([1]))).toThrow(/one cotangent per argument/);
  });
});

describe('checkpoint', () => {
  it('gives the same values and gradients, recomputing in the backward pass', () => {
    let forwardCalls = 0;
    const block = (x: Tensor) => {
      forwardCalls++;
      return x.sin().mul(x).exp();
    };
    const x = f64([0.1, 0.5]);
    const plain = grad((t: Tensor) => block(t).sum())(x);
    forwardCalls = 0;
    const remat = grad((t: Tensor) => checkpoint(block)(t).sum())(x);
    close(remat, values(plain));
    expect(forwardCalls).toBe(2);
  });

  it('composes with jvp, vmap and second derivatives', () => {
    const f = checkpoint((x: Tensor) => x.pow(3));
    close(jvp(f, [f64([2])], [f64([1])])[1], [12]);
    close(vmap(grad((x: Tensor) => f(x)))(f64([1, 2])), [3, 12]);
    close(grad(grad((x: Tensor) => f(x)))(f64(2)), [12]);
  });
});

describe('checkpoint and the global generator', () => {
  // Dropout's mask is drawn in the forward pass and again in the recomputation: the
  // recomputation must draw the same mask, and leave the generator where the run without
  // checkpoint leaves it.
  const block = (x: Tensor) => nn.functional.dropout(x, 0.5).mul(x);
  const x = tensor(Array.from({ length: 64 }, (_, i) => Math.sin(i) + 1.5));
  const plain = (t: Tensor) => block(t).sum();
  const remat = (t: Tensor) => checkpoint(block)(t).sum();
  /** The gradient `run` computes after `manualSeed(seed)`, and the next draw of the generator. */
  const seeded = (seed: number, run: () => Tensor): [number[], number[]] => {
    manualSeed(seed);
    const gradient = values(run());
    return [gradient, values(randn([4]))];
  };

  it('the recomputation replays the forward mask, eagerly and under jit', () => {
    const expected = seeded(3, () => grad(plain)(x));
    expect(expected[0].filter((v) => v === 0).length).toBeGreaterThan(10);
    expect(seeded(3, () => grad(remat)(x))).toEqual(expected);
    expect(seeded(3, () => jit(grad(remat))(x))).toEqual(expected);
    expect(seeded(3, () => grad(jit(remat))(x))).toEqual(expected);
  });

  it('a pullback run after other draws, and backward() on the tape, replay the forward mask', () => {
    manualSeed(4);
    const [, plainPullback] = vjp(block, x);
    const plainNext = values(randn([4]));
    const plainGradient = values(plainPullback(tensor(new Array<number>(64).fill(1), { dtype: 'float32' }))[0]);
    manualSeed(4);
    const [, pullback] = vjp(checkpoint(block), x);
    const next = values(randn([4]));
    expect(values(pullback(tensor(new Array<number>(64).fill(1), { dtype: 'float32' }))[0])).toEqual(plainGradient);
    expect(next).toEqual(plainNext);

    const leaf = tensor(Array.from(x.dataSync()), { requiresGrad: true });
    manualSeed(5);
    remat(leaf).backward();
    const tapeNext = values(randn([4]));
    expect(values(leaf.grad as Tensor)).toEqual(seeded(5, () => grad(plain)(x))[0]);
    expect(tapeNext).toEqual(seeded(5, () => grad(plain)(x))[1]);
  });
});

describe('stopGradient', () => {
  it('blocks derivatives at every level but keeps values and batching', () => {
    close(grad((x: Tensor) => stopGradient(x).mul(x).sum())(f64([3])), [3]);
    close(jvp((x: Tensor) => stopGradient(x.square()), [f64([3])], [f64([1])])[1], [0]);
    close(vmap((x: Tensor) => stopGradient(x).mul(2))(f64([1, 2])), [2, 4]);
    const [out] = vjp((x: Tensor) => ({ kept: stopGradient({ a: x }).a }), f64([1]));
    close(out.kept, [1]);
    // Inner stopGradient does not stop the outer derivative of a value it did not see.
    close(grad((x: Tensor) => grad((y: Tensor) => stopGradient(y).mul(x).add(y))(f64(1)).mul(x))(f64(2)), [1]);
  });
});
