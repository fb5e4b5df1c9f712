"""PyTorch and NumPy runner, and the float64 reference ('torch-f64').

usage: python3 torch_bench.py '<job json>'   (see bench/common/protocol.ts)

Every case builds the computation bench/README.md describes on the shared inputs of
bench_common.py; 'torch-f64' computes the same in float64 and only writes outputs.
"""

import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bench_common import Absent, init_scale, labels, one_hot, report_info, run_cases, symmetric  # noqa: E402

JOB = json.loads(sys.argv[1])
SYSTEM = JOB["system"]


def p(spec, name):
    return spec["params"][name]


# ---------------------------------------------------------------- linalg inputs


LINALG_KINDS = ("linalg-eigh", "linalg-svd", "linalg-qr", "linalg-cholesky", "linalg-solve")


def linalg_input(spec):
    """The float64 [batch, n, n] input of a linalg case, as common/linalg-inputs.ts builds it."""
    batch, n, kind = p(spec, "batch"), p(spec, "n"), spec["kind"]
    x = symmetric(p(spec, "seed"), batch * n * n).astype(np.float64).reshape(batch, n, n)
    if kind == "linalg-eigh":
        a = x + np.swapaxes(x, 1, 2)
    elif kind in ("linalg-cholesky", "linalg-solve"):
        a = x @ np.swapaxes(x, 1, 2) / n + np.eye(n)
    else:
        a = x
    return a[0] if batch == 1 else a


def linalg_rhs(spec):
    """The right-hand sides B of a linalg-solve case: X itself (common/linalg-inputs.ts's linalgRightHandSide)."""
    batch, n = p(spec, "batch"), p(spec, "n")
    x = symmetric(p(spec, "seed"), batch * n * n).astype(np.float64).reshape(batch, n, n)
    return x[0] if batch == 1 else x


def linalg_compared(lib, kind, a, b=None):
    """The decomposition of the case, returning the output compared (suites.ts: values, S, R, L, X)."""
    if kind == "linalg-solve":
        return lib.linalg.solve(a, b)
    if kind == "linalg-eigh":
        return lib.linalg.eigh(a)[0]
    if kind == "linalg-svd":
        return lib.linalg.svd(a, full_matrices=False)[1]
    if kind == "linalg-qr":
        return lib.linalg.qr(a)[1]
    return lib.linalg.cholesky(a)


# ---------------------------------------------------------------- NumPy


def numpy_case(spec):
    seed = spec["params"].get("seed", 0)
    kind = spec["kind"]
    if kind == "matmul":
        n = p(spec, "n")
        a = symmetric(seed + 1, n * n).reshape(n, n)
        b = symmetric(seed + 2, n * n).reshape(n, n)

        def batch(count):
            for _ in range(count):
                a @ b

        return {"check": lambda: a @ b, "batch": batch}
    if kind == "elementwise-eager":
        x = symmetric(seed + 1, p(spec, "size"))

        def chain():
            y = x * np.float32(0.5)
            y = y + np.float32(0.25)
            y = np.tanh(y)
            y = y * x
            y = np.exp(y)
            y = y - np.float32(0.25)
            y = np.abs(y)
            y = np.sqrt(y)
            y = y + x
            return np.maximum(y, np.float32(0))

        def batch(count):
            for _ in range(count):
                chain()

        return {"check": chain, "batch": batch}
    if kind == "dispatch-add":
        a = symmetric(seed + 1, 1)
        b = symmetric(seed + 2, 1)

        def batch(count):
            c = a
            for _ in range(count):
                c = np.add(c, b)

        return {"check": lambda: np.add(a, b), "batch": batch}
    if kind == "elementwise-jit":
        raise Absent("NumPy has no jit")
    if kind in LINALG_KINDS:
        a = linalg_input(spec)
        b = linalg_rhs(spec)

        def batch(count):
            for _ in range(count):
                linalg_compared(np, kind, a, b)

        return {"check": lambda: linalg_compared(np, kind, a, b), "batch": batch}
    raise Absent("NumPy has no autodiff or convolution" if kind != "trainer-fit" else "Flint-only figure")


# ---------------------------------------------------------------- PyTorch


def torch_setup():
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    return torch


def torch_case_factory(torch, dtype):
    import torch.nn.functional as F

    reference = dtype == torch.float64

    def t(values, shape):
        return torch.from_numpy(np.ascontiguousarray(values).reshape(shape)).to(dtype)

    def out(tensor):
        return tensor.detach().cpu().numpy().astype(np.float64 if reference else np.float32).ravel()

    def chain(x):
        y = x * 0.5
        y = y + 0.25
        y = torch.tanh(y)
        y = y * x
        y = torch.exp(y)
        y = y - 0.25
        y = torch.abs(y)
        y = torch.sqrt(y)
        y = y + x
        return torch.clamp_min(y, 0.0)

    def training(spec, params, loss_fn):
        optimizer = torch.optim.Adam(list(params.values()), lr=p(spec, "learningRate"), betas=(0.9, 0.999), eps=1e-8)

        # The closure form, as Flint's runner writes the step (the same work: zero, forward, backward, update).
        def closure():
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn()
            loss.backward()
            return loss

        def step():
            return optimizer.step(closure)

        def check():
            gradients = torch.autograd.grad(loss_fn(), list(params.values()))
            losses = [step().item() for _ in range(spec.get("checkSteps", 1))]
            parts = [out(g) for g in gradients] + [np.array(losses, dtype=np.float64 if reference else np.float32)]
            return np.concatenate(parts)

        def batch(count):
            for _ in range(count):
                step()

        return {"check": check, "batch": batch, "note": "synchronous kernels"}

    def parameter(values, shape):
        return t(values, shape).requires_grad_(True)

    def zeros(*shape):
        return torch.zeros(*shape, dtype=dtype, requires_grad=True)

    def implement(spec):
        seed = spec["params"].get("seed", 0)
        kind = spec["kind"]
        if reference and kind in ("mlp-step-jit", "trainer-hand-loop", "trainer-fit"):
            kind = "mlp-step"  # the same computation: the eager step's losses are the reference
        if kind in LINALG_KINDS:
            # float64 for every system (the suite is float64): torch.linalg's LAPACK calls.
            a = torch.from_numpy(np.ascontiguousarray(linalg_input(spec)))
            b = torch.from_numpy(np.ascontiguousarray(linalg_rhs(spec)))

            def batch(count):
                for _ in range(count):
                    linalg_compared(torch, kind, a, b)

            return {"check": lambda: out(linalg_compared(torch, kind, a, b)), "batch": batch, "note": "synchronous kernels"}
        if kind == "matmul":
            n = p(spec, "n")
            a = t(symmetric(seed + 1, n * n), (n, n))
            b = t(symmetric(seed + 2, n * n), (n, n))

            def batch(count):
                for _ in range(count):
                    torch.matmul(a, b)

            return {"check": lambda: out(torch.matmul(a, b)), "batch": batch, "note": "synchronous kernels"}
        if kind in ("elementwise-eager", "elementwise-jit"):
            x = t(symmetric(seed + 1, p(spec, "size")), (-1,))
            state = {"run": chain, "note": "synchronous kernels"}

            def warm():
                with torch.no_grad():
                    for _ in range(3):  # the profiling executor compiles after a couple of runs
                        state["run"](x)

            if kind == "elementwise-jit" and not reference:
                # torch.jit.trace with the NNC fuser (PyTorch's CPU jit before torch.compile): the
                # issue's reference; the fuser is switched on because trace alone does not fuse on CPU.
                torch._C._jit_override_can_fuse_on_cpu(True)
                torch._C._jit_set_texpr_fuser_enabled(True)
                state["run"] = torch.jit.trace(chain, (x,))
                state["note"] = "torch.jit.trace + NNC fuser"
                try:
                    warm()
                except RuntimeError as error:
                    # Builds without LLVM cannot fuse on the CPU: plain TorchScript remains.
                    torch._C._jit_override_can_fuse_on_cpu(False)
                    state["run"] = torch.jit.trace(chain, (x,))
                    state["note"] = "torch.jit.trace without CPU fusion (%s)" % str(error).split("\n")[0][:60]
                    warm()

            def batch(count):
                with torch.no_grad():
                    for _ in range(count):
                        state["run"](x)

            def check():
                with torch.no_grad():
                    return out(state["run"](x))

            return {"check": check, "batch": batch, "note": state["note"]}
        if kind == "dispatch-add":
            a = t(symmetric(seed + 1, 1), (1,))
            b = t(symmetric(seed + 2, 1), (1,))

            def batch(count):
                c = a
                for _ in range(count):
                    c = torch.add(c, b)

            return {"check": lambda: out(torch.add(a, b)), "batch": batch, "note": "synchronous kernels"}
        if kind in ("conv2d-forward", "conv2d-backward"):
            n, c, o, s = p(spec, "batch"), p(spec, "inChannels"), p(spec, "outChannels"), p(spec, "size")
            stride = spec["params"].get("stride", 1)
            so = (s + 2 - 3) // stride + 1
            x = t(symmetric(seed + 1, n * c * s * s), (n, c, s, s))
            w = t(symmetric(seed + 2, o * c * 9, init_scale(c * 9)), (o, c, 3, 3))
            if kind == "conv2d-forward":

                def batch(count):
                    with torch.no_grad():
                        for _ in range(count):
                            F.conv2d(x, w, padding=1, stride=stride)

                return {"check": lambda: out(F.conv2d(x, w, padding=1, stride=stride)), "batch": batch, "note": "synchronous kernels"}
            r = t(symmetric(seed + 3, n * o * so * so), (n, o, so, so))
            x.requires_grad_(True)
            w.requires_grad_(True)

            def gradients():
                loss = (F.conv2d(x, w, padding=1, stride=stride) * r).sum()
                return torch.autograd.grad(loss, [x, w])

            def batch(count):
                for _ in range(count):
                    gradients()

            def check():
                dx, dw = gradients()
                return np.concatenate([out(dx), out(dw)])

            return {"check": check, "batch": batch, "note": "synchronous kernels"}
        if kind == "mlp-step":
            batch, inputs, hidden, classes = p(spec, "batch"), p(spec, "inputs"), p(spec, "hidden"), p(spec, "classes")
            x = t(symmetric(seed + 1, batch * inputs), (batch, inputs))
            y = t(one_hot(labels(seed + 2, batch, classes), classes), (batch, classes))
            params = {
                "w1": parameter(symmetric(seed + 11, inputs * hidden, init_scale(inputs)), (inputs, hidden)),
                "b1": zeros(hidden),
                "w2": parameter(symmetric(seed + 12, hidden * hidden, init_scale(hidden)), (hidden, hidden)),
                "b2": zeros(hidden),
                "w3": parameter(symmetric(seed + 13, hidden * classes, init_scale(hidden)), (hidden, classes)),
                "b3": zeros(classes),
            }

            def loss():
                h1 = torch.relu(x @ params["w1"] + params["b1"])
                h2 = torch.relu(h1 @ params["w2"] + params["b2"])
                logits = h2 @ params["w3"] + params["b3"]
                return -(y * F.log_softmax(logits, dim=-1)).sum() / batch

            return training(spec, params, loss)
        if kind == "mlp-step-jit":
            version = torch.__version__
            raise Absent(
                "PyTorch %s has no torch.compile" % version
                if int(version.split(".")[0]) < 2
                else "torch.compile is not measured (its CPU compile needs minutes and a C++ toolchain)"
            )
        if kind == "cnn-step":
            batch, image = p(spec, "batch"), p(spec, "image")
            c1, c2, hidden, classes = p(spec, "channels1"), p(spec, "channels2"), p(spec, "hidden"), p(spec, "classes")
            flat = c2 * (image // 4) * (image // 4)
            x = t(symmetric(seed + 1, batch * image * image), (batch, 1, image, image))
            y = t(one_hot(labels(seed + 2, batch, classes), classes), (batch, classes))
            params = {
                "k1": parameter(symmetric(seed + 11, c1 * 9, init_scale(9)), (c1, 1, 3, 3)),
                "kb1": zeros(c1),
                "k2": parameter(symmetric(seed + 12, c2 * c1 * 9, init_scale(c1 * 9)), (c2, c1, 3, 3)),
                "kb2": zeros(c2),
                "w3": parameter(symmetric(seed + 13, flat * hidden, init_scale(flat)), (flat, hidden)),
                "b3": zeros(hidden),
                "w4": parameter(symmetric(seed + 14, hidden * classes, init_scale(hidden)), (hidden, classes)),
                "b4": zeros(classes),
            }

            def loss():
                a1 = F.max_pool2d(torch.relu(F.conv2d(x, params["k1"], params["kb1"], padding=1)), 2)
                a2 = F.max_pool2d(torch.relu(F.conv2d(a1, params["k2"], params["kb2"], padding=1)), 2)
                h = torch.relu(a2.reshape(batch, flat) @ params["w3"] + params["b3"])
                logits = h @ params["w4"] + params["b4"]
                return -(y * F.log_softmax(logits, dim=-1)).sum() / batch

            return training(spec, params, loss)
        if kind == "transformer-step":
            batch, tokens, d = p(spec, "batch"), p(spec, "tokens"), p(spec, "model")
            heads, ffn = p(spec, "heads"), p(spec, "ffn")
            dh = d // heads
            rows = batch * tokens
            x = t(symmetric(seed + 1, rows * d), (rows, d))
            target = t(symmetric(seed + 2, rows * d), (rows, d))

            def matrix(s, r, c):
                return parameter(symmetric(seed + s, r * c, init_scale(r)), (r, c))

            params = {
                "wq": matrix(11, d, d),
                "wk": matrix(12, d, d),
                "wv": matrix(13, d, d),
                "wo": matrix(14, d, d),
                "w1": matrix(15, d, ffn),
                "w2": matrix(16, ffn, d),
                "bq": zeros(d),
                "bk": zeros(d),
                "bv": zeros(d),
                "bo": zeros(d),
                "b1": zeros(ffn),
                "b2": zeros(d),
                "g1": torch.ones(d, dtype=dtype, requires_grad=True),
                "n1": zeros(d),
                "g2": torch.ones(d, dtype=dtype, requires_grad=True),
                "n2": zeros(d),
            }

            def split(v):
                return v.reshape(batch, tokens, heads, dh).transpose(1, 2)

            def loss():
                P = params
                h = F.layer_norm(x, (d,), P["g1"], P["n1"], eps=1e-5)
                q = split(h @ P["wq"] + P["bq"])
                k = split(h @ P["wk"] + P["bk"])
                v = split(h @ P["wv"] + P["bv"])
                attention = F.softmax((q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(dh)), dim=-1)
                context = (attention @ v).transpose(1, 2).reshape(rows, d)
                x1 = x + (context @ P["wo"] + P["bo"])
                f = torch.relu(F.layer_norm(x1, (d,), P["g2"], P["n2"], eps=1e-5) @ P["w1"] + P["b1"]) @ P["w2"] + P["b2"]
                diff = x1 + f - target
                return (diff * diff).mean()

            return training(spec, params, loss)
        raise Absent("Flint-only figure (Trainer against Flint's own hand-written loop)")

    return implement


def main():
    if SYSTEM == "numpy":
        config = np.__config__
        report_info({"system": SYSTEM, "version": np.__version__, "notes": ["BLAS: %s" % _numpy_blas(config)]})
        run_cases(JOB, numpy_case)
        return
    torch = torch_setup()
    dtype = torch.float64 if SYSTEM.endswith("-f64") else torch.float32
    notes = ["OMP_WAIT_POLICY=%s" % os.environ.get("OMP_WAIT_POLICY", "default"), "GOMP_SPINCOUNT=%s" % os.environ.get("GOMP_SPINCOUNT", "default")]
    report_info({"system": SYSTEM, "version": torch.__version__, "threads": torch.get_num_threads(), "notes": notes})
    run_cases(JOB, torch_case_factory(torch, dtype))


def _numpy_blas(config):
    try:
        info = config.get_info("blas_opt_info") if hasattr(config, "get_info") else {}
        libraries = info.get("libraries") if isinstance(info, dict) else None
        return ",".join(libraries) if libraries else "system default"
    except Exception:
        return "unknown"


if __name__ == "__main__":
    main()
