"""Reference results from PyTorch for optim's differential tests (optimizers, lbfgs, schedulers and
swa-utils test files).

Reads a JSON request on stdin and writes JSON on stdout; every key of the request is optional:
  "optimizers": [{"name", "options", "init", "steps"}]
      -> "optimizers": [params after each step | {"unsupported": why}],
         "states": [the final state of the parameter, names camelCased]
     The gradient at step t is the one the TypeScript test uses: 2 (p - target) + 0.05 (((7 t + 3 i) mod 11) - 5),
     with target_i = 0.1 i - 0.3, all in float64.
  "schedulers": [{"spec", "epochs", "metrics"?}] -> "schedulers": [{"lrs", "momenta"} | {"unsupported": why}]
  "lbfgs": [{"options", "init", "split", "steps"}] -> "lbfgs": [{"params", "losses", "funcEvals", "nIter"}]
  "averaged": [{"snapshots", "avg", "useBuffers"}] -> "averaged": [AveragedModel's final state dict]
  "updateBn": [{"state", "batches", "batchShape"}] -> "updateBn": [{"state", "training"}]
plus "torch": the version.
"""
import json
import math
import re
import sys

import torch

# The schedulers' capitalized names (ASGD's t0 is lower case).
SCHEDULER_NAMES = {"tMax": "T_max", "t0": "T_0", "tMult": "T_mult"}


def snake(name, special=SCHEDULER_NAMES):
    return special.get(name) or re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def torch_options(options, special=SCHEDULER_NAMES):
    return {snake(k, special): (tuple(v) if isinstance(v, list) else v) for k, v in options.items()}


def gradient(p, t):
    n = p.numel()
    i = torch.arange(n, dtype=torch.float64)
    target = 0.1 * i - 0.3
    noise = torch.tensor([((7 * t + 3 * k) % 11) - 5 for k in range(n)], dtype=torch.float64)
    return 2 * (p.detach().reshape(-1) - target) + 0.05 * noise


def camel(name):
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def plain_state(state):
    """A parameter's optimizer state with camelCased names: tensors as flat lists, numbers as floats."""
    out = {}
    for key, value in state.items():
        if value is None:
            continue
        if torch.is_tensor(value):
            out[camel(key)] = value.item() if value.dim() == 0 else value.detach().reshape(-1).tolist()
        else:
            out[camel(key)] = float(value)
    return out


def run_optimizer(request):
    """The parameters after each step, and the final state."""
    cls = getattr(torch.optim, request["name"])
    p = torch.tensor(request["init"], dtype=torch.float64, requires_grad=True)
    options = torch_options(request["options"], special={})
    if request["name"] == "NAdam":
        # torch 1.13's single-tensor NAdam counts mu twice in mu_product_next (fixed in 2.0);
        # its foreach path has the documented formula.
        options["foreach"] = True
    try:
        opt = cls([p], **options)
    except TypeError as error:
        return {"unsupported": str(error)}, None
    out = []
    for t in range(1, request["steps"] + 1):
        p.grad = gradient(p, t).reshape(p.shape)
        opt.step()
        out.append(p.detach().reshape(-1).tolist())
    return out, plain_state(opt.state[p])


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def run_lbfgs(request):
    """LBFGS on the Rosenbrock function of init, held as two parameters ([k] and [n - k, 1]):
    the parameters and the returned loss after each step, and the final counters."""
    init = torch.tensor(request["init"], dtype=torch.float64)
    k = request["split"]
    first = init[:k].clone().requires_grad_(True)
    second = init[k:].clone().reshape(-1, 1).requires_grad_(True)
    options = torch_options(request["options"], special={})
    opt = torch.optim.LBFGS([first, second], **options)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(torch.cat([first, second.reshape(-1)]))
        loss.backward()
        return loss

    params, losses = [], []
    for _ in range(request["steps"]):
        losses.append(float(opt.step(closure)))
        params.append(torch.cat([first, second.reshape(-1)]).tolist())
    state = opt.state[first]
    return {"params": params, "losses": losses, "funcEvals": state["func_evals"], "nIter": state["n_iter"]}


def swa_model():
    """The model of the swa_utils tests: Linear(3, 4), BatchNorm1d(4), Linear(4, 2), in float64."""
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)).double()


def load_flat(model, state):
    """Loads {camelCased name: flat list} into the model."""
    with torch.no_grad():
        for name, value in model.state_dict().items():
            value.copy_(torch.tensor(state[camel(name)], dtype=value.dtype).reshape(value.shape))


def flat_state(module):
    return {camel(k): v.reshape(-1).tolist() for k, v in module.state_dict().items()}


AVERAGES = {
    "mean": None,
    "ema0.9": lambda averaged, current, n: 0.9 * averaged + (1 - 0.9) * current,
    "weighted": lambda averaged, current, n: averaged + (current - averaged) * 2 / (n + 2),
}


def run_averaged(request):
    """AveragedModel built on the first snapshot and updated with each: its final state dict."""
    model = swa_model()
    load_flat(model, request["snapshots"][0])
    averaged = torch.optim.swa_utils.AveragedModel(model, avg_fn=AVERAGES[request["avg"]], use_buffers=request["useBuffers"])
    for snapshot in request["snapshots"]:
        load_flat(model, snapshot)
        averaged.update_parameters(model)
    return flat_state(averaged)


def run_update_bn(request):
    """update_bn over the batches (flat lists of shape batchShape): the model's state after."""
    model = swa_model()
    load_flat(model, request["state"])
    model.eval()
    loader = [[torch.tensor(b, dtype=torch.float64).reshape(request["batchShape"]), 0] for b in request["batches"]]
    torch.optim.swa_utils.update_bn(loader, model)
    return {"state": flat_state(model), "training": model.training}


LAMBDAS = {
    "pow95": lambda e: 0.95 ** e,
    "warmup10": lambda e: min(1.0, (e + 1) / 10),
    "alternate": lambda e: 0.9 if e % 2 == 1 else 1.05,
}


def build_scheduler(spec, opt):
    name = spec["name"]
    options = dict(spec.get("options", {}))
    cls = torch.optim.swa_utils.SWALR if name == "SWALR" else getattr(torch.optim.lr_scheduler, name)
    if name in ("LambdaLR", "MultiplicativeLR"):
        return cls(opt, lr_lambda=LAMBDAS[options["lrLambda"]])
    if name == "SequentialLR":
        inner = [build_scheduler(s, opt) for s in options["schedulers"]]
        return cls(opt, schedulers=inner, milestones=options["milestones"])
    if name == "ChainedScheduler":
        return cls([build_scheduler(s, opt) for s in options["schedulers"]])
    return cls(opt, **torch_options(options))


def run_scheduler(request):
    spec = request["spec"]
    p = torch.zeros(1, requires_grad=True)
    optimizer_spec = spec.get("optimizer", {"name": "SGD", "options": {"lr": 0.1}})
    opt = getattr(torch.optim, optimizer_spec["name"])([p], **torch_options(optimizer_spec["options"]))
    try:
        scheduler = build_scheduler(spec, opt)
    except TypeError as error:
        return {"unsupported": str(error)}
    lrs = [opt.param_groups[0]["lr"]]
    momenta = []
    metrics = request.get("metrics")
    for epoch in range(request["epochs"]):
        opt.step()
        if metrics is not None:
            scheduler.step(metrics[epoch])
        else:
            scheduler.step()
        group = opt.param_groups[0]
        lrs.append(group["lr"])
        if "betas" in group:
            momenta.append(group["betas"][0])
        elif "momentum" in group:
            momenta.append(group["momentum"])
    return {"lrs": lrs, "momenta": momenta}


def main():
    request = json.load(sys.stdin)
    runs = [run_optimizer(r) for r in request.get("optimizers", [])]
    result = {
        "torch": torch.__version__,
        "optimizers": [trajectory for trajectory, _ in runs],
        "states": [state for _, state in runs],
        "schedulers": [run_scheduler(r) for r in request.get("schedulers", [])],
        "lbfgs": [run_lbfgs(r) for r in request.get("lbfgs", [])],
        "averaged": [run_averaged(r) for r in request.get("averaged", [])],
        "updateBn": [run_update_bn(r) for r in request.get("updateBn", [])],
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
