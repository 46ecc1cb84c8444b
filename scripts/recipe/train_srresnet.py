"""A PyTorch stand-in for a quick-profile SRResNet run, to rank recipe candidates ten times faster than mio can train
them on a 2-core CPU (docs/training.md, "The quick profile", "Exploring recipes in PyTorch"). It trains on the
batches mio's own loader made (scripts/recipe/dump-train.mjs), with mio's curriculum, schedule, EMA and task
weights, and scores the EMA on `mioc testsets build data/val` sets. Its init draws and the uint8 rounding of the
dumped crops differ from mio's, so only its rankings mean anything: a chosen recipe is always rerun in mio.
  python3 scripts/recipe/train_srresnet.py DUMP [--prompt adaptive|none] [--lr 2e-3] [--task-weight jpeg=3,sr=2]"""
import argparse, json, math, os, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from srresnet_golden import SRResNetPrompt

ap = argparse.ArgumentParser()
ap.add_argument("dump"); ap.add_argument("--feat", type=int, default=16); ap.add_argument("--blocks", type=int, default=4)
ap.add_argument("--prompt", default="adaptive"); ap.add_argument("--lr", type=float, default=2e-3)
ap.add_argument("--ema", type=float, default=0.999); ap.add_argument("--eta", type=float, default=1e-7)
ap.add_argument("--val", default="/tmp/valsets"); ap.add_argument("--center", type=int, default=256)
ap.add_argument("--threads", type=int, default=1); ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--task-weight", default="", help="task=w,... loss weights")
ap.add_argument("--final-restarts", type=int, default=0, help="override last stage's periods")
ap.add_argument("--iters-scale", type=float, default=1.0, help="use this fraction of each stage's samples")
ap.add_argument("--weights", default="ema"); ap.add_argument("--loss", default="l1")
ap.add_argument("--beta2", type=float, default=0.99); ap.add_argument("--warmup", type=int, default=0)
ap.add_argument("--outer", default="pytorch")
args = ap.parse_args()
torch.set_num_threads(args.threads); torch.manual_seed(args.seed)
meta = json.load(open(os.path.join(args.dump, "meta.json")))
tasks = meta["tasks"]; crop = meta["crop"]; B = meta["batch"]
tw = {t: 1.0 for t in tasks}
for kv in filter(None, args.task_weight.split(",")):
    k, v = kv.split("="); tw[k] = float(v)

model = SRResNetPrompt(args.feat, args.blocks, args.prompt)
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.startswith("body.") or (args.outer == "kaiming0.1" and name.split(".")[0] in ("conv_first", "conv_hr", "conv_last")):
            if name.endswith("weight"):
                nn.init.kaiming_normal_(p); p.mul_(0.1)
            else:
                p.zero_()
ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
maps = None
if args.prompt == "explicit":
    maps = torch.rand(len(tasks), 1, 128, 128)

def u8(path, n):
    a = np.fromfile(path, dtype=np.uint8)
    return torch.from_numpy(a).view(n, 3, crop, crop)

t0 = time.time(); step = 0
for s, st in enumerate(meta["stages"]):
    n = st["iters"] * B
    lq = u8(f"{args.dump}/s{s}-lq.u8", n); gt = u8(f"{args.dump}/s{s}-gt.u8", n)
    task = torch.from_numpy(np.fromfile(f"{args.dump}/s{s}-task.i8", dtype=np.int8).astype(np.int64))
    iters = int(round(st["iters"] * args.iters_scale))
    restarts = st["restarts"] if not (args.final_restarts and s == len(meta["stages"]) - 1) else args.final_restarts
    period = iters / restarts
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, args.beta2))
    # mio's task weights: each task's over the mean of the stage's (docs/training.md, "Task weights").
    mean_w = sum(tw[t] for t in st["tasks"]) / len(st["tasks"])
    twv = torch.tensor([tw[t] / mean_w for t in tasks])
    for i in range(iters):
        t = i % period if restarts > 1 else i
        lr = args.eta + (args.lr - args.eta) * (1 + math.cos(math.pi * t / period)) / 2
        if args.warmup and step < args.warmup: lr *= (step + 1) / args.warmup
        for g in opt.param_groups: g["lr"] = lr
        x = lq[i * B:(i + 1) * B].float() / 255; y = gt[i * B:(i + 1) * B].float() / 255; k = task[i * B:(i + 1) * B]
        out = model(x, maps[k] if maps is not None else None)
        d = (out - y).abs() if args.loss == "l1" else ((out - y) ** 2 + 1e-6).sqrt()
        per = d.mean(dim=(1, 2, 3)) * twv[k]
        loss = per.mean()
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
        with torch.no_grad():
            for kk, v in model.state_dict().items():
                ema[kk].mul_(args.ema).add_(v, alpha=1 - args.ema)
train_s = time.time() - t0
if args.weights == "ema": model.load_state_dict(ema)
model.eval()

def load(p):
    a = np.asarray(Image.open(p).convert("RGB"))
    h, w = a.shape[:2]; c = args.center
    if c and h >= c and w >= c:
        y0, x0 = (h - c) // 2, (w - c) // 2; a = a[y0:y0 + c, x0:x0 + c]
    return a

def psnr(a, b):
    a = a[4:-4, 4:-4].astype(np.float64); b = b[4:-4, 4:-4].astype(np.float64)
    mse = ((a - b) ** 2).mean(); return float("inf") if mse == 0 else 10 * math.log10(255 ** 2 / mse)

res = {}
gts = {f: load(f"{args.val}/GT/{f}") for f in sorted(os.listdir(f"{args.val}/GT"))}
with torch.no_grad():
    for dist in ("indist", "outdist"):
        for t in tasks:
            po, pi = [], []
            for f, g in gts.items():
                a = load(f"{args.val}/{dist}/{t}/{f}")
                x = torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255
                o = model(x, maps[[tasks.index(t)]] if maps is not None else None)
                o = (o.clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
                po.append(psnr(o, g)); pi.append(psnr(a, g))
            res[(dist, t)] = (np.mean(po), np.mean(pi))
line = []
for dist in ("indist", "outdist"):
    g = np.mean([res[(dist, t)][0] - res[(dist, t)][1] for t in tasks])
    worst = min(tasks, key=lambda t: res[(dist, t)][0] - res[(dist, t)][1])
    line.append(f"{dist} gain {g:+.2f} worst {worst} {res[(dist, worst)][0] - res[(dist, worst)][1]:+.2f}")
print(" | ".join(line), f"| train {train_s:.0f}s |", " ".join(f"{t}:{res[('indist', t)][0] - res[('indist', t)][1]:+.2f}" for t in tasks), "|", vars(args))
