"""The bench's PyTorch SwinIR worker: one training step (L1 loss, backward, Adam) of plain SwinIR at upscale 1 on the CPU
with 2 threads the model scripts/fixtures/swinir_golden.py defines for mio's golden tests (written from
MiOIR's basicsr/archs/swinir_arch.py semantics), at the bench's configuration instead of the fixture's, in float32.
Timing and CPU-use sampling are torch_srresnet.py's. bench/run.mjs starts it in its own process; the last stdout line
is the result as JSON, progress goes to stderr.

usage: /usr/bin/python3 bench/torch_swinir.py train EMBED GROUPS DEPTH HEADS WINDOW BATCH PATCH STEPS WARMUP [--device cpu]
"""
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "scripts", "fixtures"))
sys.path.insert(0, here)
import swin_ops_golden  # noqa: E402
import swinir_golden  # noqa: E402
from torch_measure import cpu_train_args, time_train_steps  # noqa: E402

torch.set_num_threads(2)
# The fixture's model builds its RGB mean, index and mask on the CPU, so this peer is CPU-only.
embed, groups, depth, heads, window, bs, p, steps, warmup = cpu_train_args(sys.argv[1:], "SwinIR")
# The fixture module's configuration is module-level; the bench sets its own (feat 64 and mlp ratio 2 are the stdlib
# SwinIR's defaults). Its shifted-window mask is float64 for the golden values; here it is float32 like the rest.
for k, v in dict(EMBED=embed, GROUPS=groups, DEPTH=depth, HEADS=heads, WINDOW=window, FEAT=64, MLP=2.0).items():
    setattr(swinir_golden, k, v)
swin_ops_golden.D = torch.float32

torch.manual_seed(0)
params = {}
for name, shape in swinir_golden.shapes().items():
    if "norm" in name and name.endswith("weight"):
        t = torch.ones(shape)
    elif name.endswith("bias"):
        t = torch.zeros(shape)
    elif name.endswith("bias_table") or len(shape) == 2:
        t = torch.nn.init.trunc_normal_(torch.empty(shape), std=0.02)
    else:
        t = torch.empty(shape)
        torch.nn.init.kaiming_uniform_(t, a=5 ** 0.5)  # nn.Conv2d's default
    params[name] = t.requires_grad_()
lq, gt = torch.rand(bs, 3, p, p), torch.rand(bs, 3, p, p)
time_train_steps(lambda x: swinir_golden.swinir(x, params), list(params.values()), lq, gt, steps, warmup)
