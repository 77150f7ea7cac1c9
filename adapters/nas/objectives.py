"""Device objectives of a network: params, MACs, latency, peak memory, energy and power.

Every measurement runs on the *inference form* of a model (a copy in
``eval()`` mode with CondenseNet's learned group convs condensed), so params
and MACs match the condensed counts the CondenseNet / DPP-Net tables report.

* ``params``: trainable parameters.
* ``macs``: multiply-accumulates of one forward pass of one image, from
  ``torch.utils.flop_counter.FlopCounterMode`` (which counts 2 FLOPs per MAC
  for conv / linear / matmul) divided by 2.
* ``latency_ms``: median wall time of one forward pass of ``batch_size``
  images after warm-up (CUDA synchronised on a GPU); the spread (IQR, std, CV)
  and the batch size and thread count are recorded.
* ``peak_memory_mb``: weights + buffers + input + the peak of the memory
  allocated during one forward pass (CUDA allocator statistics on a GPU,
  the torch profiler's memory events on CPU; the log lines the profiler's C++ side
  prints to the process's stderr, e.g. ``gpuGetDeviceCount failed`` on a machine
  without a GPU, are dropped, see :func:`quiet_profiler`).
* ``energy_mj`` / ``peak_power_w``: measured with NVML on an NVIDIA GPU,
  with RAPL on a CPU where ``/sys/class/powercap`` is readable, otherwise
  estimated (see :func:`estimate_energy`).  ``source`` says which.

Example:
    >>> import torch
    >>> conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
    >>> count_macs(conv, (3, 8, 8)) == 3 * 8 * 9 * 8 * 8
    True
"""

from __future__ import annotations

import copy
import glob
import math
import os
import re
import statistics
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Sequence

import torch
from torch import nn

from .ops import condense_model

#: Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm, 0.9 V:
#: FP32 multiply 3.7 pJ + FP32 add 0.9 pJ per MAC; a 32-bit DRAM read 640 pJ; an 8 KB SRAM
#: 64-bit access 10 pJ (5 pJ per 32-bit word).
HOROWITZ_45NM = {"mac_fp32_pj": 3.7 + 0.9, "dram_word_pj": 640.0, "sram_word_pj": 5.0}


def _objectives():
    from moopt.problem import Objective

    return {
        "params": Objective("params", "min", "parameters", cheap=True),
        "macs": Objective("macs", "min", "MACs", cheap=True),
        "latency_ms": Objective("latency_ms", "min", "ms", cheap=True),
        "peak_memory_mb": Objective("peak_memory_mb", "min", "MB", cheap=True),
        "energy_mj": Objective("energy_mj", "min", "mJ", cheap=True),
        "peak_power_w": Objective("peak_power_w", "min", "W", cheap=True),
    }


def device_objective(name: str):
    """The :class:`moopt.Objective` of a device objective name (all ``min``, all cheap)."""
    objs = _objectives()
    if name not in objs:
        raise ValueError(f"unknown device objective {name!r}; choose from {sorted(objs)}.")
    return objs[name]


DEVICE_OBJECTIVES = ("params", "macs", "latency_ms", "peak_memory_mb", "energy_mj", "peak_power_w")


def inference_form(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode with learned group convs condensed."""
    m = condense_model(copy.deepcopy(model))
    return m.eval()


def _input(input_shape, batch_size: int, device) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn((int(batch_size), *[int(v) for v in input_shape]), generator=g).to(device)


@contextmanager
def num_threads(n: Optional[int]):
    """Temporarily set torch's intra-op thread count."""
    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def count_params(model: nn.Module, *, condense: bool = True) -> int:
    """Number of trainable parameters (of the condensed inference form by default)."""
    m = inference_form(model) if condense else model
    return int(sum(p.numel() for p in m.parameters() if p.requires_grad))


def count_macs(model: nn.Module, input_shape: Sequence[int], *, condense: bool = True) -> int:
    """Multiply-accumulates of one forward pass on one image of ``input_shape`` ``(c, h, w)``."""
    from torch.utils.flop_counter import FlopCounterMode

    m = inference_form(model) if condense else model.eval()
    first = next(iter(m.parameters()), None)
    x = _input(input_shape, 1, "cpu" if first is None else first.device)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        m(x)
    return int(counter.get_total_flops()) // 2


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def timer_for(clock: str, *, threads: Optional[int], device: str):
    """The timing function of a clock: ``"wall"`` (``time.perf_counter``) or ``"cpu"``.

    ``"cpu"`` is the calling thread's CPU time (``time.thread_time``): it leaves out the
    time the thread waits for a core, so it estimates the latency of an *unloaded* machine
    on a shared one.  It is valid only single-threaded on CPU.
    """
    if clock == "wall":
        return time.perf_counter
    if clock == "cpu":
        if torch.device(device).type != "cpu" or threads != 1:
            raise ValueError(f"clock='cpu' needs device='cpu' and threads=1 (got {device!r}, {threads}); "
                             "use clock='wall' otherwise.")
        return time.thread_time
    raise ValueError(f"clock={clock!r}; choose 'wall' or 'cpu'.")


def measure_latency(model: nn.Module, input_shape: Sequence[int], *, batch_size: int = 1,
                    threads: Optional[int] = 1, repeats: int = 30, warmup: int = 5,
                    device: str = "cpu", prepared: bool = False, clock: str = "wall") -> dict:
    """Median forward latency of ``model`` on a batch of ``input_shape`` images.

    Args:
        model: The network (its inference form is timed unless ``prepared``).
        input_shape: ``(c, h, w)``.
        batch_size: Images per forward pass.
        threads: torch intra-op threads during the measurement (``None``: leave as is).
        repeats: Timed forward passes.
        warmup: Untimed forward passes first.
        device: ``"cpu"`` or a CUDA device (synchronised around every pass).
        prepared: ``model`` is already in inference form on ``device``.
        clock: ``"wall"`` (default) or ``"cpu"`` (see :func:`timer_for`).

    Returns:
        ``{"latency_ms", "latency_iqr_ms", "latency_std_ms", "latency_min_ms", "latency_cv",
        "batch_size", "threads", "repeats", "device", "clock"}`` (median, spread and minimum in
        milliseconds; the minimum is the least load-sensitive statistic on a shared machine).
    """
    if repeats < 1:
        raise ValueError(f"repeats={repeats}; need at least 1 timed pass.")
    now = timer_for(clock, threads=threads, device=device)
    m = model if prepared else inference_form(model).to(device)
    x = _input(input_shape, batch_size, device)
    times = []
    with num_threads(threads), torch.inference_mode():
        for _ in range(warmup):
            m(x)
        _sync(device)
        for _ in range(repeats):
            t0 = now()
            m(x)
            _sync(device)
            times.append((now() - t0) * 1e3)
    med = statistics.median(times)
    q = statistics.quantiles(times, n=4) if len(times) >= 2 else [med, med, med]
    std = statistics.pstdev(times)
    return {"latency_ms": med, "latency_iqr_ms": q[2] - q[0], "latency_std_ms": std, "latency_min_ms": min(times),
            "latency_cv": std / statistics.fmean(times) if times else 0.0, "batch_size": int(batch_size),
            "threads": torch.get_num_threads() if threads is None else int(threads), "repeats": int(repeats),
            "device": str(device), "clock": clock}


#: A log line the torch profiler's C++ side (kineto, CUPTI, c10 logging) writes to file descriptor 2:
#: kineto's ``ERROR:2026-01-01 12:00:00 123:123 DeviceProperties.cpp:56] gpuGetDeviceCount failed ...``
#: and ``USDT:... profiler_start``, c10's ``[W1201 12:00:00.0 123 kineto_shim.cpp:343] ...`` about the
#: profiler, and any line naming CUPTI or gpuGetDeviceCount.
PROFILER_NOISE = re.compile(
    r"^[A-Z]+:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \d+:\d+ \S+\.cpp:\d+\]"
    r"|^\[[WIEF][^\]]*\].*(?:kineto|profil|cupti)"
    r"|gpuGetDeviceCount|CUPTI",
    re.IGNORECASE,
)


def _write_fd(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


@contextmanager
def _native_stderr_filtered(noise: re.Pattern) -> Iterator[None]:
    """Capture file descriptor 2 during the block, then write back the lines ``noise`` does not match.

    C++ code writes to the descriptor directly, past ``sys.stderr``; other output written to it in
    the block (any thread's) comes back after the block, in order.  Exceptions pass through.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a detached process): nothing reaches a user
        yield
        return
    if sys.stderr is not None:
        sys.stderr.flush()
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            if sys.stderr is not None:
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [ln for ln in capture.read().splitlines(keepends=True)
                    if not noise.search(ln.decode("utf-8", "replace"))]
            try:
                _write_fd(2, b"".join(kept))
            except OSError:  # stderr closed meanwhile: the kept text has nowhere to go
                pass


@contextmanager
def quiet_profiler() -> Iterator[None]:
    """Silence the torch profiler's own chatter around a profiling block, and nothing else.

    The profiler's C++ side (kineto) prints log lines straight to the process's stderr
    descriptor, e.g. ``ERROR:... DeviceProperties.cpp:56] gpuGetDeviceCount failed with code 35``
    on a machine without a usable GPU, and ``USDT:... profiler_start`` / ``profiler_stop`` on
    every run; ``KINETO_LOG_LEVEL`` cannot silence the latter.  This drops the lines matching
    :data:`PROFILER_NOISE` from descriptor 2 and ignores Python warnings raised from
    ``torch.profiler`` / ``torch.autograd.profiler``; other output and all exceptions pass.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"torch\.(autograd\.)?profiler")
        with _native_stderr_filtered(PROFILER_NOISE):
            yield


def measure_peak_memory(model: nn.Module, input_shape: Sequence[int], *, batch_size: int = 1,
                        device: str = "cpu") -> dict:
    """Peak memory of one inference, in MB (1e6 bytes).

    Returns:
        ``{"peak_memory_mb", "weights_mb", "input_mb", "activations_peak_mb", "source"}``;
        ``peak_memory_mb = weights + input + activations peak``.
    """
    m = inference_form(model).to(device)
    x = _input(input_shape, batch_size, device)
    weights = sum(t.numel() * t.element_size() for t in list(m.parameters()) + list(m.buffers()))
    inp = x.numel() * x.element_size()
    with torch.inference_mode():
        m(x)  # warm-up (lazy allocations)
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize(device)
            base = torch.cuda.memory_allocated(device)
            torch.cuda.reset_peak_memory_stats(device)
            m(x)
            torch.cuda.synchronize(device)
            act = torch.cuda.max_memory_allocated(device) - base
            source = "measured:cuda-allocator"
        else:
            from torch.profiler import ProfilerActivity, profile

            with quiet_profiler(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                m(x)
            events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                            if e.name() == "[memory]" and str(e.device_type()).endswith("CPU"))
            cur = act = 0
            for _, nb in events:
                cur += nb
                act = max(act, cur)
            source = "measured:torch-profiler"
    return {"peak_memory_mb": (weights + inp + act) / 1e6, "weights_mb": weights / 1e6, "input_mb": inp / 1e6,
            "activations_peak_mb": act / 1e6, "source": source}


def activation_elements(model: nn.Module, input_shape: Sequence[int], *, prepared: bool = False) -> int:
    """Sum of the output elements of every leaf module in one forward pass of one image."""
    m = model if prepared else inference_form(model)
    total = 0

    def hook(_mod, _inp, out):
        nonlocal total
        if isinstance(out, torch.Tensor):
            total += out.numel()

    handles = [mod.register_forward_hook(hook) for mod in m.modules() if not list(mod.children())]
    try:
        with torch.inference_mode():
            m(_input(input_shape, 1, "cpu"))
    finally:
        for h in handles:
            h.remove()
    return int(total)


def estimate_energy(model: nn.Module, input_shape: Sequence[int], *, batch_size: int = 1,
                    latency_ms: Optional[float] = None) -> dict:
    """Energy of one inference estimated from MACs and memory traffic (45 nm, Horowitz ISSCC 2014).

    ``E = MACs * 4.6 pJ`` (FP32 multiply 3.7 pJ + add 0.9 pJ) ``+ weight_words * 640 pJ`` (every
    parameter and floating-point buffer, e.g. BatchNorm running statistics, read once from
    DRAM, 32-bit; integer counters such as ``num_batches_tracked`` are not read at inference)
    ``+ (input + 2 * activations) * 5 pJ`` (every activation written and read once in on-chip
    SRAM).  Multiply by ``batch_size`` for the MAC and activation terms; weights are read
    once per batch.  With ``latency_ms`` the power estimate is ``E / latency`` (the average
    power of one inference, the only peak a static model can give).

    Returns:
        ``{"energy_mj", "peak_power_w" (or None), "source": "estimated:horowitz45nm", ...terms}``.
    """
    m = inference_form(model)
    macs = count_macs(m, input_shape, condense=False)
    params = sum(p.numel() for p in m.parameters()) + sum(b.numel() for b in m.buffers() if b.is_floating_point())
    acts = activation_elements(m, input_shape, prepared=True)
    inp = math.prod(int(v) for v in input_shape)
    c = HOROWITZ_45NM
    e_pj = (batch_size * macs * c["mac_fp32_pj"] + params * c["dram_word_pj"]
            + batch_size * (inp + 2 * acts) * c["sram_word_pj"])
    energy_mj = e_pj * 1e-9
    power = None if not latency_ms else energy_mj / latency_ms  # mJ / ms = W
    return {"energy_mj": energy_mj, "peak_power_w": power, "source": "estimated:horowitz45nm",
            "macs": macs, "weight_words": params, "activation_words": acts}


# --------------------------------------------------------------------------- measured energy
def rapl_domains(root: str | os.PathLike = "/sys/class/powercap") -> list[Path]:
    """Readable RAPL package domains (``intel-rapl:N`` folders with ``energy_uj``)."""
    out = []
    for d in sorted(glob.glob(os.path.join(str(root), "intel-rapl:*"))):
        p = Path(d)
        if p.name.count(":") == 1 and (p / "energy_uj").is_file() and os.access(p / "energy_uj", os.R_OK):
            out.append(p)
    return out


def _read_uj(domain: Path) -> tuple[int, int]:
    e = int((domain / "energy_uj").read_text().strip())
    rng_file = domain / "max_energy_range_uj"
    mx = int(rng_file.read_text().strip()) if rng_file.is_file() else 2 ** 63
    return e, mx


def rapl_delta_uj(before: Sequence[tuple[int, int]], after: Sequence[tuple[int, int]]) -> int:
    """Energy between two RAPL readings ``[(energy_uj, max_range_uj)]``, handling counter wrap."""
    total = 0
    for (e0, mx), (e1, _) in zip(before, after):
        total += e1 - e0 if e1 >= e0 else e1 + mx - e0
    return total


def _measure_rapl(m, x, domains, min_time_s: float) -> dict:
    windows = []
    n_total, e_total, t_total = 0, 0, 0.0
    with torch.inference_mode():
        while t_total < min_time_s:
            r0 = [_read_uj(d) for d in domains]
            t0 = time.perf_counter()
            n = 0
            while time.perf_counter() - t0 < 0.05:
                m(x)
                n += 1
            dt = time.perf_counter() - t0
            de = rapl_delta_uj(r0, [_read_uj(d) for d in domains])
            windows.append(de / 1e6 / dt)
            n_total, e_total, t_total = n_total + n, e_total + de, t_total + dt
    return {"energy_mj": e_total / 1e3 / n_total, "peak_power_w": max(windows), "source": "measured:rapl",
            "note": "package energy, includes idle and other processes' power"}


def _measure_nvml(m, x, device, min_time_s: float) -> Optional[dict]:
    try:
        import pynvml  # noqa: PLC0415 - optional dependency
    except ImportError:
        return None
    pynvml.nvmlInit()
    try:
        idx = torch.device(device).index or 0
        h = pynvml.nvmlDeviceGetHandleByIndex(idx)
        powers = []
        n = 0
        with torch.inference_mode():
            e0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h)  # mJ
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < min_time_s:
                m(x)
                n += 1
                if n % 10 == 0:
                    torch.cuda.synchronize(device)
                    powers.append(pynvml.nvmlDeviceGetPowerUsage(h) / 1e3)
            torch.cuda.synchronize(device)
            e1 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h)
        return {"energy_mj": (e1 - e0) / n, "peak_power_w": max(powers) if powers else None,
                "source": "measured:nvml"}
    finally:
        pynvml.nvmlShutdown()


def measure_energy(model: nn.Module, input_shape: Sequence[int], *, batch_size: int = 1,
                   device: str = "cpu", threads: Optional[int] = 1, min_time_s: float = 0.5,
                   rapl_root: str = "/sys/class/powercap", latency_ms: Optional[float] = None) -> dict:
    """Energy per inference (mJ) and peak power (W): NVML on CUDA, RAPL on CPU, else estimated.

    Returns:
        ``{"energy_mj", "peak_power_w", "source"}`` with ``source`` one of
        ``"measured:nvml"``, ``"measured:rapl"``, ``"estimated:horowitz45nm"``.
    """
    m = inference_form(model).to(device)
    x = _input(input_shape, batch_size, device)
    with num_threads(threads):
        if torch.device(device).type == "cuda":
            res = _measure_nvml(m, x, device, min_time_s)
            if res is not None:
                return res
        else:
            domains = rapl_domains(rapl_root)
            if domains:
                try:
                    return _measure_rapl(m, x, domains, min_time_s)
                except (OSError, ValueError):
                    pass
        if latency_ms is None:
            latency_ms = measure_latency(m, input_shape, batch_size=batch_size, threads=None, device=device,
                                         prepared=True, repeats=10)["latency_ms"]
    return estimate_energy(model, input_shape, batch_size=batch_size, latency_ms=latency_ms)


def measure_all(model: nn.Module, input_shape: Sequence[int], *, batch_size: int = 1, threads: int = 1,
                device: str = "cpu", repeats: int = 30, clock: str = "wall") -> dict:
    """Every device objective of ``model`` on this machine, with their details."""
    lat = measure_latency(model, input_shape, batch_size=batch_size, threads=threads, device=device,
                          repeats=repeats, clock=clock)
    mem = measure_peak_memory(model, input_shape, batch_size=batch_size, device=device)
    en = measure_energy(model, input_shape, batch_size=batch_size, device=device, threads=threads,
                        latency_ms=lat["latency_ms"])
    return {"params": count_params(model), "macs": count_macs(model, input_shape), **lat,
            "peak_memory_mb": mem["peak_memory_mb"], "memory_source": mem["source"],
            "energy_mj": en["energy_mj"], "peak_power_w": en["peak_power_w"], "energy_source": en["source"]}
