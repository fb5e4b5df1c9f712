"""PyTorch's side of issue 10's measurements, on the same GPU and at the same sizes as Flint's.

Reads the report device-check.ts wrote (its `issue` section and benchmarks), times PyTorch on
the same workloads (eager, and torch.compile where asked), and writes <out>.json and <out>.md
with both systems' figures and the ratios the issue sets targets for:

  - matmul 8192 (float32 with TF32 off, and bfloat16): Flint's rate at least 90% of PyTorch's;
  - a fused chain of 10 elementwise ops: at least 80% of the device-to-device copy bandwidth;
  - the MNIST CNN step (batch 256) and a transformer encoder step (batch 32 x 256 tokens,
    d = 512): Flint's time at most 1.2x PyTorch eager's (torch.compile reported too);
  - the launch overhead of eager small ops, in microseconds.

The models are device-models.ts's (the bench suite's CNN and pre-LN encoder layer). Results are
written after each measurement, so a run cut short keeps what it measured. Every eager
measurement runs first; the torch.compile ones come last, each on its own (a compile that fails,
or would start after the deadline, is reported and skipped).

  python3 torch-bench.py <flint report.json> <out stem> [--device cuda|cpu] [--no-compile] [--budget S]

--device cpu rehearses the script where there is no GPU (with the report of a --rehearsal run);
--identity-compile stands in for a missing torch.compile there; --budget S moves the deadline of
the compiled measurements (default 100 s).
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

args = [a for a in sys.argv[1:] if not a.startswith("--")]
report_path, out_stem = args[0], args[1]
device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cuda"
if "--identity-compile" in sys.argv:
    # Rehearsal with a PyTorch that has no torch.compile (Debian's 1.13): the compiled path runs eagerly.
    torch.compile = lambda fn: fn
compile_too = "--no-compile" not in sys.argv and hasattr(torch, "compile")
# Seconds after which no torch.compile measurement starts (device-check.sh gives the script 120).
deadline = time.perf_counter() + float(sys.argv[sys.argv.index("--budget") + 1] if "--budget" in sys.argv else 100)
compiled_later = []  # (name, thunk returning ms, flint value): run after every eager measurement
report = json.load(open(report_path))
issue = report.get("issue", {})
results = {"device": device, "torch": torch.__version__, "measurements": {}, "ratios": {}}
if device == "cuda":
    results["gpu"] = torch.cuda.get_device_name(0)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def sync():
    if device == "cuda":
        torch.cuda.synchronize()


def median_ms(run, repeats=10, warmup=3):
    samples = []
    for i in range(warmup + repeats):
        sync()
        start = time.perf_counter()
        run()
        sync()
        if i >= warmup:
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2]


def flint_benchmark(name, note=None):
    """Flint's benchmark of that name (and note: the float32 matmuls are recorded with TF32 off and on)."""
    for b in report.get("benchmarks", []):
        if b["name"] == name and (note is None or b.get("note") == note):
            return b
    return None


def save():
    with open(out_stem + ".json", "w") as f:
        json.dump(results, f, indent=2)
    lines = ["# Issue 10: Flint and PyTorch on the same device (%s, %s)" % (results.get("gpu", device), torch.__version__), ""]
    lines += ["| measurement | PyTorch | Flint | ratio |", "| --- | --- | --- | --- |"]
    for name, m in results["measurements"].items():
        lines.append("| %s | %s | %s | %s |" % (name, m.get("torch", "-"), m.get("flint", "-"), m.get("ratio", "-")))
    lines += ["", "| target | value | met |", "| --- | --- | --- |"]
    for name, r in results["ratios"].items():
        lines.append("| %s | %.3f | %s |" % (name, r["value"], "yes" if r["met"] else "NO"))
    with open(out_stem + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")


def measure(name, torch_value, flint_value=None, unit="ms", lower_is_better=True):
    entry = {"torch": "%.4g %s" % (torch_value, unit)}
    if flint_value is not None and torch_value != 0:
        entry["flint"] = "%.4g %s" % (flint_value, unit)
        entry["ratio"] = "%.3f" % ((flint_value / torch_value) if lower_is_better else (flint_value / torch_value))
    results["measurements"][name] = entry
    print("torch-bench: %s: torch %.4g %s%s" % (name, torch_value, unit, "" if flint_value is None else ", flint %.4g %s" % (flint_value, unit)), flush=True)
    save()


def target(name, value, met):
    results["ratios"][name] = {"value": value, "met": bool(met)}
    save()


# Matmul: GFLOP/s of torch, against Flint's benchmark of the same size.
for dtype, flint_name, note in (
    ("float32", "matmul f32 %d (cublasLt)", "TF32 off"),
    ("bfloat16", "matmul bfloat16 %d (cublasLt)", None),
):
    n = 8192 if flint_benchmark(flint_name % 8192, note) else 4096 if flint_benchmark(flint_name % 4096, note) else None
    if n is None or device != "cuda":
        continue
    a = torch.rand(n, n, device=device, dtype=getattr(torch, dtype))
    b = torch.rand(n, n, device=device, dtype=getattr(torch, dtype))
    ms = median_ms(lambda: a @ b, 5, 2)
    rate = 2 * n**3 / ms / 1e6
    flint = flint_benchmark(flint_name % n, note)
    measure("matmul %s %d (GFLOP/s)" % (dtype, n), rate, flint["value"], "GFLOP/s", lower_is_better=False)
    target("matmul %s %d: Flint's rate / PyTorch's (>= 0.9)" % (dtype, n), flint["value"] / rate, flint["value"] / rate >= 0.9)
    del a, b

# Copy bandwidth and the chain of 10 elementwise ops (device-check.ts's chainOfTen).
count = int(issue.get("elements", 1 << 12))
x = torch.rand(count, device=device) * 2 - 1
y = torch.rand(count, device=device) * 2 - 1
out = torch.empty_like(x)
copy_ms = median_ms(lambda: out.copy_(x))
copy_gbs = 2 * 4 * count / copy_ms / 1e6
measure("device-to-device copy of %d float32 (GB/s)" % count, copy_gbs, issue.get("copyGBs"), "GB/s", lower_is_better=False)


def chain(a, b):
    return torch.log(torch.sqrt(torch.abs(torch.maximum(torch.tanh(a * 2 + b) * a, torch.tensor(0.25, device=device)) - b)) + 1)


eager_chain_ms = median_ms(lambda: chain(x, y), 5, 2)
measure("chain of 10 ops, eager (ms)", eager_chain_ms, issue.get("eagerChainMs"))
if compile_too:

    def compiled_chain_ms():
        compiled_chain = torch.compile(chain)
        compiled_chain(x, y)
        return median_ms(lambda: compiled_chain(x, y))

    compiled_later.append(("chain of 10 ops, torch.compile vs Flint's jit (ms)", compiled_chain_ms, issue.get("fusedChainMs")))
if "fusedChainGBs" in issue:
    best_copy = max(copy_gbs, float(issue.get("copyGBs", 0)))
    fraction = float(issue["fusedChainGBs"]) / best_copy
    target("fused chain of 10: Flint's GB/s / the best copy GB/s (>= 0.8)", fraction, fraction >= 0.8)


# The training steps: device-models.ts's models, written the PyTorch way.
def cnn_step_factory(p):
    batch, image, c1, c2, hidden, classes = p["batch"], p["image"], p["channels1"], p["channels2"], p["hidden"], p["classes"]
    flat = c2 * (image // 4) * (image // 4)
    gen = torch.Generator(device="cpu").manual_seed(0)

    def param(*shape, scale=None):
        t = torch.rand(*shape, generator=gen) * 2 - 1
        if scale is not None:
            t = t * scale
        return t.to(device).requires_grad_()

    params = [param(c1, 1, 3, 3, scale=1 / 3), param(c1, scale=0), param(c2, c1, 3, 3, scale=1 / math.sqrt(9 * c1)), param(c2, scale=0),
              param(flat, hidden, scale=1 / math.sqrt(flat)), param(hidden, scale=0), param(hidden, classes, scale=1 / math.sqrt(hidden)),
              param(classes, scale=0)]
    x = torch.rand(batch, 1, image, image, generator=gen).to(device) * 2 - 1
    labels = torch.randint(0, classes, (batch,), generator=gen)
    y = F.one_hot(labels, classes).float().to(device)

    def loss(k1, kb1, k2, kb2, w3, b3, w4, b4):
        a1 = F.max_pool2d(F.relu(F.conv2d(x, k1, kb1, padding=1)), 2)
        a2 = F.max_pool2d(F.relu(F.conv2d(a1, k2, kb2, padding=1)), 2)
        h = F.relu(a2.reshape(batch, flat) @ w3 + b3)
        return -(y * F.log_softmax(h @ w4 + b4, dim=-1)).sum() / batch

    return params, loss, p["learningRate"]


def transformer_step_factory(p):
    batch, tokens, d, heads, ffn = p["batch"], p["tokens"], p["model"], p["heads"], p["ffn"]
    dh, rows = d // heads, batch * tokens
    gen = torch.Generator(device="cpu").manual_seed(0)

    def param(*shape, scale=None, fill=None):
        t = torch.full(shape, float(fill)) if fill is not None else (torch.rand(*shape, generator=gen) * 2 - 1) * scale
        return t.to(device).requires_grad_()

    names = ["wq", "wk", "wv", "wo", "w1", "w2", "bq", "bk", "bv", "bo", "b1", "b2", "g1", "n1", "g2", "n2"]
    shapes = {"wq": (d, d), "wk": (d, d), "wv": (d, d), "wo": (d, d), "w1": (d, ffn), "w2": (ffn, d)}
    params = [param(*shapes[n], scale=1 / math.sqrt(shapes[n][0])) for n in names[:6]]
    params += [param(d, fill=0) for _ in range(4)] + [param(ffn, fill=0), param(d, fill=0)]
    params += [param(d, fill=1), param(d, fill=0), param(d, fill=1), param(d, fill=0)]
    x = (torch.rand(rows, d, generator=gen) * 2 - 1).to(device)
    target_values = (torch.rand(rows, d, generator=gen) * 2 - 1).to(device)

    def split(t):
        return t.reshape(batch, tokens, heads, dh).transpose(1, 2)

    def loss(wq, wk, wv, wo, w1, w2, bq, bk, bv, bo, b1, b2, g1, n1, g2, n2):
        h = F.layer_norm(x, (d,), g1, n1, 1e-5)
        q, k, v = split(h @ wq + bq), split(h @ wk + bk), split(h @ wv + bv)
        scores = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(dh))
        context = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(rows, d)
        x1 = x + (context @ wo + bo)
        f = F.relu(F.layer_norm(x1, (d,), g2, n2, 1e-5) @ w1 + b1) @ w2 + b2
        diff = x1 + f - target_values
        return (diff * diff).mean()

    return params, loss, p["learningRate"]


def training_step(factory, p, compiled):
    params, loss, lr = factory(p)
    fn = torch.compile(loss) if compiled else loss
    optimizer = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8)

    def step():
        optimizer.zero_grad(set_to_none=True)
        value = fn(*params)
        value.backward()
        optimizer.step()
        return value

    return step


def time_training(factory, p, compiled):
    return median_ms(training_step(factory, p, compiled), 10, 3)


def profile_training(factory, p):
    """One eager step after warm-up, as device-check.ts profiles Flint's: the milliseconds issuing it
    took on the host, and (on a GPU) how many kernels and copies the profiler saw it run."""
    step = training_step(factory, p, False)
    for _ in range(3):
        step()
    sync()
    start = time.perf_counter()
    step()
    issued = (time.perf_counter() - start) * 1000
    sync()
    operations = None
    if device == "cuda":
        try:
            from torch.profiler import ProfilerActivity, profile

            # CPU activity too: CUDA alone has been seen to record no kernel at all.
            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
                step()
                sync()
            operations = sum(1 for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA) or None
        except Exception as error:  # no profiler there: the host time still stands
            print("torch-bench: profiler failed: %s" % str(error).splitlines()[0][:200], flush=True)
    return issued, operations


for name, factory, shape_key, flint_key in (
    ("CNN step", cnn_step_factory, "cnnShape", "cnnStepMs"),
    ("transformer step", transformer_step_factory, "transformerShape", "transformerStepMs"),
):
    if shape_key not in issue:
        continue
    p = json.loads(issue[shape_key])
    label = "%s %s" % (name, json.dumps({k: v for k, v in p.items() if k not in ("learningRate", "seed")}))
    eager = time_training(factory, p, False)
    flint = issue.get(flint_key)
    measure("%s, eager (ms)" % label, eager, flint)
    if flint is not None:
        target("%s: Flint's time / PyTorch eager's (<= 1.2)" % name, float(flint) / eager, float(flint) / eager <= 1.2)
    # Where the time goes: the host's share and how many operations each system runs per step.
    flint_profile = json.loads(issue.get(flint_key.replace("Ms", "Profile"), "{}"))
    issued, operations = profile_training(factory, p)
    measure("%s, host time to issue one step (ms)" % name, issued, flint_profile.get("issuedMs"))
    if operations is not None:
        # Not quite one unit: an addon call may launch several kernels (a two-pass reduction, a cuDNN call).
        measure("%s, kernels and copies per step (Flint: addon calls that enqueue work)" % name, operations, flint_profile.get("deviceCalls"), "")
    if compile_too:
        compiled_later.append(("%s, torch.compile (ms)" % label, lambda f=factory, q=p: time_training(f, q, True), flint))

# Launch overhead: eager adds of one element, queued back to back, one synchronization at the end.
one = torch.ones(1, device=device)
c = torch.ones(1, device=device)
steps = 20000 if device == "cuda" else 2000
sync()
start = time.perf_counter()
for _ in range(steps):
    c = c + one
sync()
per_op = (time.perf_counter() - start) * 1e6 / steps
measure("eager add of 1 element (us per op)", per_op, issue.get("smallOpMicroseconds"), "us")

for name, thunk, flint in compiled_later:
    if time.perf_counter() > deadline:
        results["measurements"][name] = {"torch": "skipped: the deadline passed before it started"}
        save()
        continue
    try:
        measure(name, thunk(), flint)
    except Exception as error:  # a compile needs Triton and a C compiler there: report why it could not run
        results["measurements"][name] = {"torch": "failed: %s" % str(error).splitlines()[0][:200]}
        save()
del x, y, out
print(json.dumps({"ok": True, "ratios": results["ratios"]}), flush=True)
