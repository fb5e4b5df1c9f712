// Prints the IR of the PyTorch-style MLP training step (784-512-512-10, batch 128, Adam,
// crossEntropy) compiled whole by compile(): the program as traced (forward, the staged
// loss.backward(), the staged optimizer.step()), the equation count after each pass, the fused
// kernels, and the optimized program; then times eager and compiled steps.
//
//   cd examples && node --import tsx bench/mlp-step-ir.ts [--full] [steps]
import '@flint/backend-cpu';
import { compile, type FusionEquation, manualSeed, nn, optim, printProgram, randint, randn, type Tensor } from '@flint/api';

const full = process.argv.includes('--full');
const steps = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10);

manualSeed(0);
const makeModel = () =>
  new nn.Sequential(new nn.Linear(784, 512), new nn.ReLU(), new nn.Linear(512, 512), new nn.ReLU(), new nn.Linear(512, 10));
const model = makeModel();
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
function trainStep(x: Tensor, y: Tensor): Tensor {
  optimizer.zeroGrad();
  const loss = nn.functional.crossEntropy(model.forward(x), y);
  loss.backward();
  optimizer.step();
  return loss;
}
const compiled = compile(trainStep, { modules: [model], optimizers: [optimizer] });
const x = randn([128, 784]);
const y = randint(0, 10, [128]);

// The first two calls trace (no optimizer state yet; then its state as numbers); the third
// call runs the steady program, the one printed here.
for (let i = 0; i < 3; i++) (compiled(x, y) as Tensor).dispose();
const lowered = compiled.lower(x, y);

console.log(`traced: ${lowered.traced.equations.length} equations, ${lowered.traced.inputs.length} inputs`);
for (const record of lowered.passes) console.log(`  ${record.name}: ${record.before.equations.length} -> ${record.after.equations.length}`);
const fusions = lowered.optimized.equations.filter((e): e is FusionEquation => e.kind === 'fusion');
const byKind = new Map<string, number>();
for (const f of fusions) byKind.set(f.fusion, (byKind.get(f.fusion) ?? 0) + 1);
console.log(
  `optimized: ${lowered.optimized.equations.length} steps, ${fusions.length} fused kernels (${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}); ` +
    `the backend compiled ${lowered.compiledKernels}, runs ${lowered.fallbackKernels} op by op; compile ${lowered.compileTimeMs.toFixed(0)} ms`,
);
const memory = lowered.optimized.memory;
if (memory !== undefined)
  console.log(
    `memory plan: peak ${(memory.peakBytes / 2 ** 20).toFixed(2)} MiB of intermediates, ${(memory.reusedBytes / 2 ** 20).toFixed(2)} MiB written in place`,
  );
console.log('fused kernels:');
for (const f of fusions) {
  const ops = f.body.map(
    (e) =>
      printProgram({ name: '', inputs: [], constants: new Map(), equations: [e], outputs: [] })
        .split('\n')[1]
        ?.trim()
        .split(' ')[3],
  );
  console.log(`  ${f.fusion} [${f.outputs.map((v) => v.aval.shape.join('x')).join(', ')}]: ${ops.join(' ')}`);
}
const unfused = lowered.optimized.equations.filter((e) => e.kind === 'primitive');
console.log(
  `unfused steps: ${unfused
    .map((e) =>
      e.kind === 'primitive'
        ? printProgram({ name: '', inputs: [], constants: new Map(), equations: [e], outputs: [] })
            .split('\n')[1]
            ?.trim()
            .split(' ')[3]
        : '',
    )
    .join(' ')}`,
);
if (full) {
  console.log('\n# before the passes\n');
  console.log(printProgram(lowered.traced));
  console.log('\n# after the passes\n');
  console.log(lowered.toString());
}

// Eager and compiled steps on twin models, CPU time per step (the machine may be shared).
const eagerModel = makeModel();
eagerModel.parameters().forEach((p, i) => {
  p.value = (model.parameters()[i] as nn.Parameter).value.mul(1);
});
const eagerOptimizer = new optim.Adam(eagerModel.parameters(), { lr: 1e-3 });
const eagerStep = (): Tensor => {
  eagerOptimizer.zeroGrad();
  const loss = nn.functional.crossEntropy(eagerModel.forward(x), y);
  loss.backward();
  eagerOptimizer.step();
  return loss;
};
const time = (run: () => Tensor): number => {
  const samples: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = process.cpuUsage();
    const loss = run();
    loss.item();
    loss.dispose();
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / 1000);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? Number.NaN;
};
eagerStep().dispose();
console.log(
  `CPU time per step, median of ${steps}: eager ${time(eagerStep).toFixed(1)} ms, compiled ${time(() => compiled(x, y) as Tensor).toFixed(1)} ms`,
);
