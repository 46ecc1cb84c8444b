"""The bench's PyTorch Restormer worker: one training step (L1 loss, backward, Adam) of plain Restormer on the CPU with
2 threads: the model scripts/fixtures/restormer_golden.py defines for mio's golden tests (written from MiOIR's
basicsr/archs/restormer_arch.py semantics: heads 1/2/4/8, GDFN 2.66, WithBias LayerNorm, no conv biases, no prompts),
at the bench's configuration instead of the fixture's, in float32. Timing and CPU-use sampling are torch_measure.py's,
as for torch_swinir.py. bench/run.mjs starts it in its own process; the last stdout line is the result as JSON,
progress goes to stderr.

usage: /usr/bin/python3 bench/torch_restormer.py train DIM L1 L2 L3 L4 REFINE BATCH PATCH STEPS WARMUP [--device cpu]
"""
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "scripts", "fixtures"))
sys.path.insert(0, here)
import restormer_golden  # noqa: E402
from torch_measure import cpu_train_args, time_train_steps  # noqa: E402

torch.set_num_threads(2)
dim, l1, l2, l3, l4, refinement, bs, p, steps, warmup = cpu_train_args(sys.argv[1:], "Restormer")
if p % 8 or dim % 2:
    raise SystemExit(f"Restormer needs an even DIM and a PATCH that is a multiple of 8, got {dim} and {p}")
# The fixture's heads and GDFN factor are module-level (the stdlib Restormer's, and the reference's); the sizes are the
# constructor's. nf is the prompt extractors' width, unused without prompts.
restormer_golden.HEADS, restormer_golden.FFN = [1, 2, 4, 8], 2.66

# PyTorch's own init, which is the reference's and mio's (stdlib Restormer: `pytorch` init): nn.Conv2d's default
# kaiming_uniform(a=√5), LayerNorm weights 1 and biases 0, MDTA temperatures 1. As torch_swinir.py: seed 0, float32.
torch.manual_seed(0)
model = restormer_golden.Restormer(dim, [l1, l2, l3, l4], refinement, nf=1, with_bias=True)
lq, gt = torch.rand(bs, 3, p, p), torch.rand(bs, 3, p, p)
time_train_steps(model, list(model.parameters()), lq, gt, steps, warmup)
