import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { PYTHON } from '../../../../test/support/python-torch.test-support.js';
import { describeAgainstTorch } from '../../../../test/support/torch-oracle.test-support.js';
import * as nn from './index.js';

// registerStateDictPreHook and registerLoadStateDictPostHook: when they run, with what, and how a
// post-hook's edits to the incompatible keys decide a strict load; the post-hooks' order and keys
// against torch's register_load_state_dict_post_hook.

const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** A module with a buffer that a state-dict pre-hook refreshes. */
class Counter extends nn.Module<[Tensor], Tensor> {
  calls = 0;
  constructor() {
    super();
    this.registerBuffer('seen', tensor([0], { dtype: 'float32' }));
  }
  forward(x: Tensor): Tensor {
    this.calls++;
    return x;
  }
}

const twoLayers = () => new nn.Sequential(new nn.Linear(2, 2), new nn.Linear(2, 2));

describe('state-dict pre-hooks', () => {
  it('run on every module before its entries are taken, with its prefix; a handle removes one', () => {
    const counter = new Counter();
    const model = new nn.Sequential(new nn.Linear(2, 2), counter);
    const reached: string[] = [];
    const handles = model.modules().map((module) =>
      module.registerStateDictPreHook((m, prefix) => {
        expect(m).toBe(module);
        reached.push(`${m.constructor.name} '${prefix}'`);
      }),
    );
    counter.registerStateDictPreHook((m) => {
      m.setBuffer('seen', tensor([m.calls], { dtype: 'float32' }));
    });
    counter.forward(tensor([1]));
    counter.forward(tensor([1]));
    const state = model.stateDict();
    expect(reached).toEqual(["Sequential ''", "Linear '0.'", "Counter '1.'"]);
    expect(values(state['1.seen'] as Tensor)).toEqual([2]);
    for (const handle of handles) handle.remove();
    reached.length = 0;
    model.stateDict();
    expect(reached).toEqual([]);
    expect(() => model.registerStateDictPreHook('x' as never)).toThrow(/registerStateDictPreHook: hook must be a function, got string/);
  });

  it('run once under each path of a module shared by two parents, as torch recurses', () => {
    const shared = new nn.Linear(2, 2);
    const model = new nn.Sequential(shared, shared);
    const prefixes: string[] = [];
    shared.registerStateDictPreHook((_m, prefix) => {
      prefixes.push(prefix);
    });
    model.stateDict();
    expect(prefixes).toEqual(['0.', '1.']);
  });
});

describe('load-state-dict post-hooks', () => {
  it('run after the load, children first, with the keys loadStateDict returns', () => {
    const source = twoLayers();
    const target = twoLayers();
    const log: string[] = [];
    for (const [name, module] of target.namedModules()) {
      module.registerLoadStateDictPostHook((m, keys) => {
        expect(m).toBe(module);
        // The load happened before the hooks run.
        expect(values((target.at(0) as nn.Linear).weight.value)).toEqual(values((source.at(0) as nn.Linear).weight.value));
        log.push(`${name || 'root'}: missing ${keys.missingKeys.join(',')}; unexpected ${keys.unexpectedKeys.join(',')}`);
      });
    }
    const state = source.stateDict();
    delete state['1.bias'];
    state.extra = tensor([0.5]);
    const result = target.loadStateDict(state, false);
    expect(log).toEqual([
      '0: missing 1.bias; unexpected extra',
      '1: missing 1.bias; unexpected extra',
      'root: missing 1.bias; unexpected extra',
    ]);
    expect(result).toEqual({ missingKeys: ['1.bias'], unexpectedKeys: ['extra'] });
  });

  it('decide a strict load by editing the keys in place: forgiven keys load, added keys fail after the load', () => {
    const source = twoLayers();
    const state = source.stateDict();
    delete state['1.bias'];
    const forgiving = twoLayers();
    const handle = forgiving.registerLoadStateDictPostHook((_m, keys) => {
      keys.missingKeys.splice(0, keys.missingKeys.length);
    });
    expect(forgiving.loadStateDict(state)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(values((forgiving.at(1) as nn.Linear).weight.value)).toEqual(values((source.at(1) as nn.Linear).weight.value));
    handle.remove();
    expect(() => forgiving.loadStateDict(state)).toThrow(/missing key\(s\): '1\.bias'/);

    const strictest = twoLayers();
    strictest.at(0).registerLoadStateDictPostHook((_m, keys) => {
      keys.unexpectedKeys.push('0.renamed');
    });
    expect(() => strictest.loadStateDict(source.stateDict())).toThrow(
      /^Sequential\.loadStateDict: 1 problem\(s\) loading the state dict \(the matching entries were loaded and the post-hooks ran\):\n {2}unexpected key\(s\): '0\.renamed'$/,
    );
    expect(values((strictest.at(0) as nn.Linear).weight.value)).toEqual(values((source.at(0) as nn.Linear).weight.value));
    // Shape mismatches still stop the load before anything changes, hooks or not.
    const before = values((strictest.at(0) as nn.Linear).bias?.value as Tensor);
    const wrong = { ...source.stateDict(), '0.bias': tensor([1.5, 2, 3]) };
    expect(() => strictest.loadStateDict(wrong, false)).toThrow(/size mismatch for '0\.bias'/);
    expect(values((strictest.at(0) as nn.Linear).bias?.value as Tensor)).toEqual(before);
  });

  it('must return undefined: a returned value is an error naming the module and the hook', () => {
    const model = twoLayers();
    model.at(1).registerLoadStateDictPostHook(function returnsKeys(_m, keys) {
      return keys as never;
    });
    expect(() => model.loadStateDict(model.stateDict())).toThrow(ValueError);
    expect(() => model.loadStateDict(model.stateDict())).toThrow(
      "Linear: the load-state-dict post-hook 'returnsKeys' returned object; it must return undefined (edit the missingKeys and unexpectedKeys arrays in place)",
    );
  });
});

describeAgainstTorch('load-state-dict post-hooks against PyTorch', () => {
  it("run in torch's order and leave the keys torch's leave", () => {
    const script = `
import json, torch, torch.nn as nn
m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
order = []
def hook(name):
    def h(module, keys):
        order.append(name)
    return h
for name, module in m.named_modules():
    module.register_load_state_dict_post_hook(hook(name or 'root'))
sd = m.state_dict(); del sd['1.bias']; sd['extra'] = torch.zeros(1)
keys = m.load_state_dict(sd, strict=False)
def forgive(module, keys):
    keys.missing_keys.clear(); keys.unexpected_keys.clear()
m.register_load_state_dict_post_hook(forgive)
forgiven = m.load_state_dict(sd)
print(json.dumps({'order': order[:3], 'missing': keys.missing_keys, 'unexpected': keys.unexpected_keys,
                  'forgiven': [forgiven.missing_keys, forgiven.unexpected_keys]}))
`;
    const run = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(run.stderr.includes('Traceback') ? run.stderr : '').toBe('');
    const expected = JSON.parse(run.stdout) as { order: string[]; missing: string[]; unexpected: string[]; forgiven: string[][] };
    const model = twoLayers();
    const order: string[] = [];
    for (const [name, module] of model.namedModules()) {
      module.registerLoadStateDictPostHook(() => {
        order.push(name || 'root');
      });
    }
    const state = model.stateDict();
    delete state['1.bias'];
    state.extra = tensor([0.5]);
    const keys = model.loadStateDict(state, false);
    expect(order.slice(0, 3)).toEqual(expected.order);
    expect([keys.missingKeys, keys.unexpectedKeys]).toEqual([expected.missing, expected.unexpected]);
    model.registerLoadStateDictPostHook((_m, incompatible) => {
      incompatible.missingKeys.length = 0;
      incompatible.unexpectedKeys.length = 0;
    });
    const forgiven = model.loadStateDict(state);
    expect([forgiven.missingKeys, forgiven.unexpectedKeys]).toEqual(expected.forgiven);
  });
});
