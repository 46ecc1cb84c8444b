"""The bench's PyTorch worker: SRResNet (BasicSR MSRResNet, upscale 1) on the CPU with 2 threads (or on CUDA), the module
scripts/fixtures/srresnet_golden.py defines for mio's golden tests (so all three peers run one model).
Adapted from the anchor benchmark of docs/bench.md, "What lavapipe allows". bench/run.mjs starts it in its own
process; the last stdout line is the result as JSON, progress goes to stderr.

usage: /usr/bin/python3 bench/torch_srresnet.py train FEAT BLOCKS BATCH PATCH STEPS WARMUP [--device cpu|cuda]
       /usr/bin/python3 bench/torch_srresnet.py infer FEAT BLOCKS SIZE STEPS WARMUP [--device cpu|cuda]
Each timed call ends in .item(), which waits for the device, so CUDA times are whole steps.
"""
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "fixtures"))
from srresnet_golden import SRResNetPrompt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_measure import measure, pop_device, train_timing  # noqa: E402

torch.set_num_threads(2)


def fwd_flops(nf, nb, h, w, b):
    """2 * MACs of the forward convs, as bench/lib.mjs counts them."""
    return 2 * 9 * (3 * nf + 2 * nb * nf * nf + nf * nf + nf * 3) * h * w * b


def basicsr_init(net):
    """BasicSR's default_init_weights on every conv: Kaiming normal (fan in) times 0.1, zero bias."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
                m.weight.mul_(0.1)
                m.bias.zero_()


argv = sys.argv[1:]
device = pop_device(argv)
if device not in ("cpu", "cuda"):
    raise SystemExit(f"--device takes cpu or cuda, got '{device}'")
if device == "cuda" and not torch.cuda.is_available():
    raise SystemExit("--device cuda: torch.cuda.is_available() is False (no CUDA build of PyTorch, or no GPU)")
# fp32 throughout, as mio computes: no TF32 in matmuls or convolutions.
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
mode, args = argv[0], [int(a) for a in argv[1:]]
torch.manual_seed(0)
if mode == "train":
    nf, nb, bs, p, steps, warmup = args
    net = SRResNetPrompt(nf, nb, "none")
    basicsr_init(net)
    net = net.to(device)
    lq, gt = torch.rand(bs, 3, p, p).to(device), torch.rand(bs, 3, p, p).to(device)
    timing, loss = train_timing(net, net.parameters(), lq, gt, steps, warmup)
    result = {**timing, "gflops": round(3 * fwd_flops(nf, nb, p, p, bs) / (timing["medianMs"] * 1e6), 2), "loss": loss}
elif mode == "infer":
    nf, nb, s, steps, warmup = args
    net = SRResNetPrompt(nf, nb, "none").eval()
    basicsr_init(net)
    net = net.to(device)
    x = torch.rand(1, 3, s, s).to(device)

    def run():
        with torch.no_grad():
            return net(x)[0, 0, 0, 0].item()

    timing, _ = measure("infer", steps, warmup, run)
    result = {**timing, "gflops": round(fwd_flops(nf, nb, s, s, 1) / (timing["medianMs"] * 1e6), 2)}
else:
    raise SystemExit(f"unknown mode '{mode}': train or infer")
result.update(torch=torch.__version__, threads=torch.get_num_threads(), mkldnn=torch.backends.mkldnn.is_available(),
              device=device, deviceName=torch.cuda.get_device_name(0) if device == "cuda" else None)
print(json.dumps(result), flush=True)
