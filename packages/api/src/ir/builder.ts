import type { Aval } from '../core/aval.js';
import { type ParamsOf, Primitive } from '../primitives/primitive.js';
import { RULES } from '../primitives/rules.js';
import type { Tensor } from '../tensor/tensor.js';
import { type CompositeCall, type CompositeRegion, type LinalgCall, linalgOutputs } from './composite.js';
import { type Constant, type Equation, type Program, Var, VarFactory } from './program.js';

/**
 * Builds a program equation by equation: the jit tracer records into one, and tests write IR
 * with it directly. Each equation's output aval comes from the primitive's abstract evaluation,
 * so a builder cannot make an ill-typed program.
 *
 * @example
 * const b = new ProgramBuilder();
 * const x = b.input({ shape: [3], dtype: 'float32' });
 * const y = b.bind(Primitive.Mul, [x, b.literal(2, x.aval)], {});
 * printProgram(b.build('double', [y]));
 */
export class ProgramBuilder {
  private readonly vars = new VarFactory();
  private readonly inputVars: Var[] = [];
  private readonly constantMap = new Map<Var, Constant>();
  private readonly equationList: Equation[] = [];
  private readonly stopped = new Set<Var>();
  private readonly regions: CompositeRegion[] = [];
  /** Whether a function with a user-defined derivative was traced into the program. */
  customRules = false;

  input(aval: Aval): Var {
    const v = this.vars.make(aval);
    this.inputVars.push(v);
    return v;
  }

  /** A constant filling `aval`'s shape with `value`. */
  literal(value: number, aval: Aval): Var {
    const v = this.vars.make(aval);
    this.constantMap.set(v, { kind: 'literal', value });
    return v;
  }

  /** A constant holding `tensor`'s data (the caller keeps it alive as long as the program runs). */
  tensor(tensor: Tensor): Var {
    const v = this.vars.make(tensor);
    this.constantMap.set(v, { kind: 'tensor', tensor });
    return v;
  }

  /** Appends `primitive(inputs)`; validates it by abstract evaluation and returns its output. */
  bind<P extends Primitive>(primitive: P, inputs: readonly Var[], params: ParamsOf<P>): Var {
    const aval = RULES[primitive].abstractEval(
      inputs.map((v) => v.aval),
      params,
    );
    return this.bindWithAval(primitive, inputs, params, aval);
  }

  /** Appends an equation whose output aval the caller has already computed. */
  bindWithAval<P extends Primitive>(primitive: P, inputs: readonly Var[], params: ParamsOf<P>, aval: Aval): Var {
    const output = this.vars.make(aval);
    this.equationList.push({ kind: 'primitive', primitive, params, inputs: [...inputs], output } as Equation);
    return output;
  }

  /** `x` with its derivative cut: an identity reshape, marked (see Program.stopGradients). */
  stopGradient(x: Var): Var {
    const v = this.bindWithAval(Primitive.Reshape, [x], { shape: [...x.aval.shape] }, x.aval);
    this.stopped.add(v);
    return v;
  }

  /** How many equations the program has so far: where a composite's equations will start. */
  get equationCount(): number {
    return this.equationList.length;
  }

  /** Records that the equations from index `first` on compute `outputs = call(inputs)`. */
  composite(call: CompositeCall, inputs: readonly Var[], outputs: readonly Var[], first: number): void {
    const defines: Var[] = [];
    for (let i = first; i < this.equationList.length; i++) {
      const e = this.equationList[i] as Equation;
      if (e.kind === 'primitive') defines.push(e.output);
    }
    this.regions.push({ call, inputs: [...inputs], outputs: [...outputs], defines });
  }

  /** Appends a linear-algebra call on `inputs` as one composite equation without a body (see LinalgCall). */
  linalg(call: LinalgCall, inputs: readonly Var[]): Var[] {
    const outputs = linalgOutputs(
      call,
      inputs.map((v) => v.aval),
    ).map((aval) => this.vars.make(aval));
    this.equationList.push({ kind: 'fusion', fusion: 'composite', composite: call, inputs: [...inputs], body: [], outputs });
    return outputs;
  }

  build(name: string, outputs: readonly Var[]): Program {
    return {
      name,
      inputs: [...this.inputVars],
      constants: new Map(this.constantMap),
      equations: [...this.equationList],
      outputs: [...outputs],
      ...(this.stopped.size > 0 ? { stopGradients: new Set(this.stopped) } : {}),
      ...(this.customRules ? { customRules: true } : {}),
      ...(this.regions.length > 0 ? { composites: [...this.regions] } : {}),
    };
  }
}

export { Var };
