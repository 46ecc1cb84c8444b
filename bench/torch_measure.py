"""Timing and the --device option for the bench's PyTorch workers (torch_srresnet.py, torch_swinir.py,
torch_restormer.py): what bench/lib.mjs's measure(), cpuSample() and arg() do for the Node workers, in Python, and the
train loop of the CPU-only rows."""
import json
import resource
import sys
import time


def pop_device(argv):
    """Removes `--device NAME` from argv (so the rest are the positional numbers) and returns NAME: "cpu" without the
    option, "" when it has no value. Each worker says which devices it takes."""
    device = "cpu"
    if "--device" in argv:
        i = argv.index("--device")
        device = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i : i + 2]
    return device


def busy_seconds():
    """Busy CPU seconds of the whole machine (/proc/stat, USER_HZ = 100)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / 100
    except OSError:
        return None


def own_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(what, steps, warmup, once):
    """Warm-up calls (the first one's time kept), then timed ones with the CPU use over them (bench/lib.mjs)."""
    first = None
    for i in range(warmup):
        t = time.perf_counter()
        once()
        ms = (time.perf_counter() - t) * 1e3
        first = ms if first is None else first
        print(f"{what} warm-up {i + 1}/{warmup}: {ms:.0f} ms", file=sys.stderr, flush=True)
    times, last = [], None
    t0, own0, busy0 = time.perf_counter(), own_seconds(), busy_seconds()
    for i in range(steps):
        t = time.perf_counter()
        last = once()
        times.append((time.perf_counter() - t) * 1e3)
        print(f"{what} {i + 1}/{steps}: {times[-1]:.1f} ms", file=sys.stderr, flush=True)
    wall, own, busy1 = time.perf_counter() - t0, own_seconds() - own0, busy_seconds()
    other = None if busy0 is None or busy1 is None else round(max(0.0, busy1 - busy0 - own) / wall, 2)
    s = sorted(times)
    m = len(s) // 2
    med = s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
    r = lambda x: round(x, 2 if x < 100 else 1)  # noqa: E731
    return {"firstStepMs": None if first is None else round(first, 1), "medianMs": r(med), "minMs": r(s[0]),
            "maxMs": r(s[-1]), "timesMs": [r(t) for t in times],
            "cpu": {"ownCores": round(own / wall, 2), "otherCores": other}}, last


def cpu_train_args(argv, model):
    """The positional numbers of a CPU-only train worker's command line (`train N... [--device cpu]`); the SwinIR and
    Restormer fixture models build their constants on the CPU, so those peers take no other device."""
    device = pop_device(argv)
    if device != "cpu":
        raise SystemExit(f"--device: the {model} peer runs on the CPU only, got '{device}'")
    if not argv or argv[0] != "train":
        raise SystemExit(f"unknown mode '{argv[0] if argv else ''}': train")
    return [int(a) for a in argv[1:]]


def train_timing(forward, params, lq, gt, steps, warmup):
    """`warmup` then `steps` timed training steps, L1 + backward + Adam (lr 2e-4, betas 0.9/0.99: the mio workers'
    optimizer): measure()'s timing and the last step's loss."""
    import torch
    import torch.nn.functional as F

    opt = torch.optim.Adam(params, lr=2e-4, betas=(0.9, 0.99), eps=1e-8)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.l1_loss(forward(lq), gt)
        loss.backward()
        opt.step()
        return loss.item()

    return measure("step", steps, warmup, step)


def time_train_steps(forward, params, lq, gt, steps, warmup):
    """A CPU-only train row: train_timing's result, printed as the last stdout line."""
    import torch

    timing, loss = train_timing(forward, params, lq, gt, steps, warmup)
    result = {**timing, "loss": loss, "torch": torch.__version__, "threads": torch.get_num_threads(), "device": "cpu"}
    print(json.dumps(result), flush=True)
