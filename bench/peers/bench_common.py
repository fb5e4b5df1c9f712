"""What the Python runners share with the TypeScript ones (bench/common/): the inputs' hash
generator, the timing rules, peak-memory measurement and the result protocol. Change them
together."""

import json
import math
import os
import sys
import time

import numpy as np

RESULT_MARKER = "@@flint-bench-result "
INFO_MARKER = "@@flint-bench-info "
_MASK = 0xFFFFFFFF


def random_bits(seed, size):
    """32 random bits per element of stream `seed` (bench/common/prng.ts: randomBits)."""
    i = np.arange(size, dtype=np.uint64)
    x = (i * np.uint64(0x9E3779B9) + np.uint64((seed * 0x85EBCA6B + 0x165667B1) & _MASK)) & np.uint64(_MASK)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(_MASK)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & np.uint64(_MASK)
    x ^= x >> np.uint64(16)
    return x


def symmetric(seed, size, scale=1.0):
    """float32 values in [-1, 1), times `scale` in float32 arithmetic (prng.ts: symmetricArray)."""
    values = ((random_bits(seed, size) >> np.uint64(8)).astype(np.float64) / 8388608.0 - 1.0).astype(np.float32)
    return values * np.float32(scale) if scale != 1.0 else values


def uniform(seed, size):
    return (random_bits(seed, size) >> np.uint64(8)).astype(np.float64) / 16777216.0


def labels(seed, count, classes):
    return np.floor(uniform(seed, count) * classes).astype(np.int64)


def one_hot(values, classes):
    out = np.zeros((len(values), classes), dtype=np.float32)
    out[np.arange(len(values)), values] = 1.0
    return out


def init_scale(fan_in):
    return float(np.float32(1.0 / math.sqrt(fan_in)))


def report_case(result):
    sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


def report_info(info):
    sys.stdout.write(INFO_MARKER + json.dumps(info) + "\n")
    sys.stdout.flush()


def write_output(job, spec, values):
    """Writes float32 (or float64) output values; returns the path relative to outputDir."""
    array = np.ascontiguousarray(values)
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float32)
    suffix = "f64" if array.dtype == np.float64 else "f32"
    relative = os.path.join(job["system"], "%s.%s" % (spec["id"], suffix))
    path = os.path.join(job["outputDir"], relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    array.astype("<" + array.dtype.str[1:]).tofile(path)
    return relative


def case_timing(timing, training):
    """bench/common/protocol.ts: caseTiming, the longer warm-up of training steps."""
    if not training:
        return timing
    extra = max(0, timing.get("trainingWarmupMs", timing["warmupMs"]) - timing["warmupMs"])
    return dict(timing, warmupMs=timing["warmupMs"] + extra, budgetMs=timing["budgetMs"] + 2 * extra)


def measure(batch, timing, case_start, first_run_ms):
    """bench/common/timing.ts: measure, with the same rules."""
    now = lambda: time.perf_counter() * 1000.0
    elapsed = lambda: now() - case_start
    if first_run_ms >= timing["maxCaseMs"] / 2:
        return [first_run_ms], 1, None  # too slow for more: the correctness run is the sample
    last = first_run_ms
    w = 1
    while w < timing["warmup"] and elapsed() < timing["maxCaseMs"] / 3:
        t0 = now()
        batch(1)
        last = now() - t0
        w += 1
    inner = 1
    if not last >= timing["minSampleMs"]:
        count = 1
        while True:
            t0 = now()
            batch(count)
            ms = now() - t0
            if ms >= timing["minSampleMs"] / 4 or count >= (1 << 20):
                inner = max(1, math.ceil(count * timing["minSampleMs"] / max(ms, 1e-3)))
                break
            count *= 4
    warm_start = now()
    while now() - warm_start < timing["warmupMs"] and elapsed() < timing["budgetMs"] / 2:
        batch(inner)
    samples = []
    cpu = 0.0
    wall = 0.0
    while len(samples) < timing["repeats"]:
        if len(samples) >= timing["minSamples"] and elapsed() > timing["budgetMs"]:
            break
        if samples and elapsed() + samples[-1] * inner > timing["maxCaseMs"]:
            break
        c0 = time.process_time()
        t0 = now()
        batch(inner)
        ms = now() - t0
        cpu += (time.process_time() - c0) * 1000.0
        wall += ms
        samples.append(ms / inner)
    return samples, inner, (cpu / wall if wall > 0 else 0.0)


def _status_field(name):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def with_peak_memory(fn):
    """bench/common/memory.ts: withPeakMemory. Returns (result, resident bytes added at the peak)."""
    reset = True
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        reset = False
    before = _status_field("VmRSS")
    result = fn()
    if reset:
        peak = _status_field("VmHWM")
    else:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if before is None or peak is None:
        return result, None
    return result, max(0, peak - before)


class Absent(Exception):
    """The system cannot run this case; reported absent with the message."""


def run_cases(job, implement):
    """bench/common/driver.ts: runCases."""
    for spec in job["cases"]:
        case_start = time.perf_counter() * 1000.0
        try:
            prepared = implement(spec)
            check_start = time.perf_counter() * 1000.0
            if spec.get("training"):
                values, peak = with_peak_memory(prepared["check"])
            else:
                values, peak = prepared["check"](), None
            first_run_ms = (time.perf_counter() * 1000.0 - check_start) / spec.get("checkSteps", 1)
            output = write_output(job, spec, values)
            if job.get("referenceOnly"):
                report_case({"id": spec["id"], "status": "ok", "output": output})
                continue
            samples, inner, cores = measure(prepared["batch"], case_timing(job["timing"], spec.get("training")), case_start, first_run_ms)
            result = {"id": spec["id"], "status": "ok", "output": output, "samplesMs": samples, "inner": inner}
            if cores is not None:
                result["coresUsed"] = cores
            if peak is not None:
                result["peakStepBytes"] = peak
            if prepared.get("note"):
                result["note"] = prepared["note"]
            report_case(result)
        except Absent as absent:
            report_case({"id": spec["id"], "status": "absent", "reason": str(absent)})
        except Exception as error:  # a failing case must not stop the others
            report_case({"id": spec["id"], "status": "error", "reason": ("%s: %s" % (type(error).__name__, error))[:600]})
