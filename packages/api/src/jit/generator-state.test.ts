import '@flint/backend-cpu';
import { compile, grad, jit, jvp, manualSeed, mean, nn, optim, randn, random, sum, type Tensor, tensor, vmap } from '@flint/api';
import { describe, expect, it } from 'vitest';

// The global generator (manualSeed, randn, Dropout without a key) is state compiled programs
// thread: a compiled call draws fresh values on every call, the very values the same code draws
// eagerly after the same seed, and leaves the generator where eager code would leave it.

const F = nn.functional;
const zeros = (t: Tensor): string => Array.from(t.dataSync(), (v) => (v === 0 ? '1' : '0')).join('');

const maxDifference = (a: Tensor, b: Tensor): number => {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] as number) - (y[i] as number)));
  return m;
};

function dropoutModel(): nn.Sequential {
  manualSeed(7);
  const model = new nn.Sequential(new nn.Linear(4, 64), new nn.Dropout(0.5));
  model.train();
  return model;
}

describe('the global generator threaded through compiled programs', () => {
  it('jit(f) of a function that draws gives fresh values per call, equal to eager ones after the same seed', () => {
    const x = randn([256]);
    const f = (t: Tensor) => F.dropout(t, 0.5);
    manualSeed(3);
    const eager = [f(x), f(x), f(x)];
    const eagerNext = randn([4]);
    const jitted = jit(f);
    manualSeed(3);
    const compiled = [jitted(x), jitted(x), jitted(x)];
    const compiledNext = randn([4]);
    expect(zeros(compiled[0] as Tensor)).not.toBe(zeros(compiled[1] as Tensor));
    expect(zeros(compiled[1] as Tensor)).not.toBe(zeros(compiled[2] as Tensor));
    compiled.forEach((c, i) => {
      expect(Array.from(c.dataSync())).toEqual(Array.from((eager[i] as Tensor).dataSync()));
    });
    // The generator advanced past the compiled draws as it did past the eager ones.
    expect(Array.from(compiledNext.dataSync())).toEqual(Array.from(eagerNext.dataSync()));
    expect(jitted.stats.misses).toBe(1);
    // The program reads the generator's key and counter as inputs after the argument.
    expect(jitted.lower(x).traced.inputs.map((v) => `${v.aval.dtype}[${v.aval.shape}]`)).toEqual(['float32[256]', 'int32[2]', 'int32[]']);
  });

  it('a function with explicit keys keeps its inputs, and the same key gives the same values', () => {
    const x = randn([128]);
    const f = jit((t: Tensor, k: Tensor) => F.dropout(t, 0.5, { key: k }));
    const k = random.key(11);
    const a = f(x, k);
    const b = f(x, k);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(f.lower(x, k).traced.inputs).toHaveLength(2);
  });

  it('draws of a jitted call inside another jitted function continue the enclosing stream', () => {
    const x = randn([64]);
    const inner = jit((t: Tensor) => F.dropout(t, 0.5));
    const body = (t: Tensor) => [F.dropout(t, 0.5), inner(t), F.dropout(t, 0.5)];
    manualSeed(5);
    const eager = body(x);
    const outer = jit(body);
    manualSeed(5);
    const compiled = outer(x);
    compiled.forEach((c, i) => {
      expect(Array.from(c.dataSync())).toEqual(Array.from((eager[i] as Tensor).dataSync()));
    });
  });

  it('a jitted call that draws, on concrete tensors inside another traced function, joins its stream', () => {
    const constant = randn([32]);
    const inner = jit((t: Tensor) => F.dropout(t, 0.5));
    // Compiled for concrete calls first: the cached entry must still be staged under the trace.
    inner(constant);
    const body = (t: Tensor) => [t.add(inner(constant)), F.dropout(t, 0.5)];
    const x = randn([32]);
    manualSeed(17);
    const eager = [body(x), body(x)];
    const eagerNext = randn([4]);
    const outer = jit(body);
    manualSeed(17);
    const compiled = [outer(x), outer(x)];
    const compiledNext = randn([4]);
    compiled.forEach((outs, call) => {
      outs.forEach((c, i) => {
        expect(Array.from(c.dataSync())).toEqual(Array.from(((eager[call] as Tensor[])[i] as Tensor).dataSync()));
      });
    });
    const first = (call: number) => Array.from(((compiled[call] as Tensor[])[0] as Tensor).dataSync());
    expect(first(0)).not.toEqual(first(1));
    expect(Array.from(compiledNext.dataSync())).toEqual(Array.from(eagerNext.dataSync()));
    expect(outer.stats.misses).toBe(1);
  });

  it('grad(jit(f)) differentiates through the mask the forward call drew', () => {
    const x = randn([64]);
    const f = jit((t: Tensor) => sum(F.dropout(t, 0.5)));
    manualSeed(9);
    const g1 = grad(f)(x);
    const g2 = grad(f)(x);
    manualSeed(9);
    const eager1 = grad((t: Tensor) => sum(F.dropout(t, 0.5)))(x);
    expect(Array.from(g1.dataSync())).toEqual(Array.from(eager1.dataSync()));
    expect(zeros(g1)).not.toBe(zeros(g2));
  });

  it('vmap(jit(f)) and jvp(jit(f)) draw what vmap(f) and jvp(f) draw', () => {
    const f = (t: Tensor) => F.dropout(t, 0.5);
    const jitted = jit(f);
    const x = randn([3, 32]);
    const y = randn([32]);
    manualSeed(13);
    const eagerBatched = vmap(f)(x);
    const [eagerOut, eagerTangent] = jvp(f, [y], [y]);
    manualSeed(13);
    const batched = vmap(jitted)(x);
    const [out, tangent] = jvp(jitted, [y], [y]);
    expect(Array.from(batched.dataSync())).toEqual(Array.from(eagerBatched.dataSync()));
    expect(Array.from(out.dataSync())).toEqual(Array.from(eagerOut.dataSync()));
    expect(Array.from(tangent.dataSync())).toEqual(Array.from(eagerTangent.dataSync()));
  });

  it('compile(model) in training under the tape draws the eager masks, and backward goes through them', () => {
    const x = randn([2, 4]);
    const eagerModel = dropoutModel();
    const compiledModel = dropoutModel();
    const fast = compile(compiledModel);
    manualSeed(21);
    const eager = [0, 1, 2].map(() => {
      const out = eagerModel.forward(x);
      mean(out).backward();
      return out;
    });
    const eagerGrad = (eagerModel.parameters()[0] as nn.Parameter).grad as Tensor;
    manualSeed(21);
    const compiled = [0, 1, 2].map(() => {
      const out = fast(x) as Tensor;
      mean(out).backward();
      return out;
    });
    const compiledGrad = (compiledModel.parameters()[0] as nn.Parameter).grad as Tensor;
    expect(zeros(compiled[0] as Tensor)).not.toBe(zeros(compiled[1] as Tensor));
    expect(zeros(compiled[1] as Tensor)).not.toBe(zeros(compiled[2] as Tensor));
    compiled.forEach((c, i) => {
      expect(zeros(c)).toBe(zeros(eager[i] as Tensor));
      expect(maxDifference(c, eager[i] as Tensor)).toBeLessThan(1e-5);
    });
    expect(maxDifference(compiledGrad, eagerGrad)).toBeLessThan(1e-5);
  });

  it('compile(step) with Dropout draws the eager masks step by step', () => {
    const x = randn([2, 4]);
    const run = (compiled: boolean) => {
      const model = dropoutModel();
      const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
      const body = (t: Tensor) => {
        optimizer.zeroGrad();
        const out = model.forward(t);
        mean(out.square()).backward();
        optimizer.step();
        return out;
      };
      const step = compiled ? compile(body, { modules: [model], optimizers: [optimizer] }) : body;
      manualSeed(33);
      const outs = [0, 1, 2].map(() => step(x) as Tensor);
      return { outs, weight: (model.parameters()[0] as nn.Parameter).value };
    };
    const eager = run(false);
    const compiled = run(true);
    expect(zeros(compiled.outs[0] as Tensor)).not.toBe(zeros(compiled.outs[1] as Tensor));
    compiled.outs.forEach((c, i) => {
      expect(zeros(c)).toBe(zeros(eager.outs[i] as Tensor));
      expect(maxDifference(c, eager.outs[i] as Tensor)).toBeLessThan(1e-5);
    });
    expect(maxDifference(compiled.weight, eager.weight)).toBeLessThan(1e-5);
  });

  it('a trace that fails leaves the generator where it was', () => {
    manualSeed(1);
    const expected = randn([3]);
    manualSeed(1);
    const f = jit((t: Tensor) => (F.dropout(t, 0.5).sum().item() as number) + 1);
    expect(() => f(tensor([1, 2, 3]))).toThrow(/item/);
    expect(Array.from(randn([3]).dataSync())).toEqual(Array.from(expected.dataSync()));
  });
});
