"""The bench's PyTorch Restormer worker: one training step (L1 loss, backward, Adam) of plain Restormer on the CPU with
2 threads: the model scripts/fixtures/restormer_golden.py defines for mio's golden tests (written from MiOIR's
basicsr/archs/restormer_arch.py semantics: heads 1/2/4/8, GDFN 2.66, WithBias LayerNorm, no conv biases, no prompts),
at the bench's configuration instead of the fixture's, in float32. Timing and CPU-use sampling are torch_measure.py's,
as for torch_swinir.py. bench/run.mjs starts it in its own process; the last stdout line is the result as JSON,
progress goes to stderr.

usage: /usr/bin/python3 bench/torch_restormer.py train DIM L1 L2 L3 L4 REFINE BATCH PATCH STEPS WARMUP [--device cpu]
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "scripts", "fixtures"))
sys.path.insert(0, here)
import restormer_golden  # noqa: E402
from torch_measure import measure, pop_device  # noqa: E402

torch.set_num_threads(2)
argv = sys.argv[1:]
device = pop_device(argv)
# CPU only, like the SwinIR peer: the row compares mio with PyTorch on the same CPU.
if device != "cpu":
    raise SystemExit(f"--device: the Restormer peer runs on the CPU only, got '{device}'")

mode, args = argv[0], [int(a) for a in argv[1:]]
if mode != "train":
    raise SystemExit(f"unknown mode '{mode}': train")
dim, l1, l2, l3, l4, refinement, bs, p, steps, warmup = args
if p % 8 or dim % 2:
    raise SystemExit(f"Restormer needs an even DIM and a PATCH that is a multiple of 8, got {dim} and {p}")
# The fixture's heads and GDFN factor are module-level (the stdlib Restormer's, and the reference's); the sizes are the
# constructor's. nf is the prompt extractors' width, unused without prompts.
restormer_golden.HEADS, restormer_golden.FFN = [1, 2, 4, 8], 2.66

# PyTorch's own init, which is the reference's and mio's (stdlib Restormer: `pytorch` init): nn.Conv2d's default
# kaiming_uniform(a=√5), LayerNorm weights 1 and biases 0, MDTA temperatures 1. As torch_swinir.py: seed 0, float32.
torch.manual_seed(0)
model = restormer_golden.Restormer(dim, [l1, l2, l3, l4], refinement, nf=1, with_bias=True)
params = list(model.parameters())
opt = torch.optim.Adam(params, lr=2e-4, betas=(0.9, 0.99), eps=1e-8)
lq, gt = torch.rand(bs, 3, p, p), torch.rand(bs, 3, p, p)


def step():
    opt.zero_grad(set_to_none=True)
    loss = F.l1_loss(model(lq), gt)
    loss.backward()
    opt.step()
    return loss.item()


timing, loss = measure("step", steps, warmup, step)
result = {**timing, "loss": loss, "torch": torch.__version__, "threads": torch.get_num_threads(), "device": device}
print(json.dumps(result), flush=True)
