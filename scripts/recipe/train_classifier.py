"""A PyTorch stand-in for the quick task classifier run (TaskClassifier, ordinary cross-entropy, Adam, one cosine
period), trained on the batches mio's loader made (scripts/recipe/dump-train.mjs pipelines/classifier.mio quick ...)
and scored on the val sets' LQ images (--center 0: whole images), to rank classifier recipes quickly
(docs/training.md, "The task classifier"). More --iters than the dump holds repeat its batches.
  python3 scripts/recipe/train_classifier.py DUMP [--iters N] [--lr 2e-3] [--width 64] [--center 128]"""
import argparse, json, math, os, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image

ap = argparse.ArgumentParser()
ap.add_argument("dump"); ap.add_argument("--width", type=int, default=64); ap.add_argument("--lr", type=float, default=2e-3)
ap.add_argument("--iters", type=int, default=0); ap.add_argument("--batch", type=int, default=0)
ap.add_argument("--center", type=int, default=128); ap.add_argument("--val", default="/tmp/valsets")
ap.add_argument("--threads", type=int, default=1); ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--double", action="store_true"); ap.add_argument("--beta2", type=float, default=0.99)
ap.add_argument("--ema", type=float, default=0); ap.add_argument("--wd", type=float, default=0)
ap.add_argument("--crop", type=int, default=0, help="random sub-crop of the dumped crops")
args = ap.parse_args()
torch.set_num_threads(args.threads); torch.manual_seed(args.seed)
meta = json.load(open(f"{args.dump}/meta.json")); tasks = meta["tasks"]; crop = meta["crop"]
st = meta["stages"][0]; B = args.batch or meta["batch"]; n = st["iters"] * meta["batch"]
lq = torch.from_numpy(np.fromfile(f"{args.dump}/s0-lq.u8", dtype=np.uint8)).view(n, 3, crop, crop)
task = torch.from_numpy(np.fromfile(f"{args.dump}/s0-task.i8", dtype=np.int8).astype(np.int64))
W = args.width
net = nn.Sequential(nn.Conv2d(3, W, 3, 3), nn.LeakyReLU(0.1), nn.Conv2d(W, W, 3, 3), nn.LeakyReLU(0.1),
                    nn.Conv2d(W, W, 1), nn.LeakyReLU(0.1), nn.Conv2d(W, W, 1), nn.LeakyReLU(0.1), nn.Conv2d(W, 32, 1))
fc = nn.Linear(32, len(tasks))
params = list(net.parameters()) + list(fc.parameters())
def fwd(x): return fc(net(x).mean(dim=(2, 3)))
iters = args.iters or st["iters"]
opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, args.beta2), weight_decay=args.wd)
ema = [p.detach().clone() for p in params]
t0 = time.time(); g = torch.Generator().manual_seed(args.seed)
for i in range(iters):
    lr = 1e-7 + (args.lr - 1e-7) * (1 + math.cos(math.pi * i / iters)) / 2
    for pg in opt.param_groups: pg["lr"] = lr
    j = (np.arange(i * B, (i + 1) * B)) % n
    x = lq[j].float() / 255; y = task[j]
    if args.crop:
        o = torch.randint(0, crop - args.crop + 1, (2,), generator=g); x = x[:, :, o[0]:o[0] + args.crop, o[1]:o[1] + args.crop]
    z = fwd(x)
    loss = F.cross_entropy(F.softmax(z, 1) if args.double else z, y)
    opt.zero_grad(); loss.backward(); opt.step()
    if args.ema:
        with torch.no_grad():
            for e, p in zip(ema, params): e.mul_(args.ema).add_(p, alpha=1 - args.ema)
if args.ema:
    with torch.no_grad():
        for e, p in zip(ema, params): p.copy_(e)
def load(p):
    a = np.asarray(Image.open(p).convert("RGB")); h, w = a.shape[:2]; c = args.center
    if c and h >= c and w >= c: y0, x0 = (h - c) // 2, (w - c) // 2; a = a[y0:y0 + c, x0:x0 + c]
    return torch.from_numpy(a.copy()).permute(2, 0, 1)[None].float() / 255
acc = {}; conf = np.zeros((len(tasks), len(tasks)), int)
with torch.no_grad():
    for dist in ("indist", "outdist"):
        for k, t in enumerate(tasks):
            fs = sorted(os.listdir(f"{args.val}/{dist}/{t}"))
            ok = 0
            for f in fs:
                pr = int(fwd(load(f"{args.val}/{dist}/{t}/{f}")).argmax()); ok += pr == k
                if dist == "indist": conf[k, pr] += 1
            acc[(dist, t)] = ok / len(fs)
ind = np.mean([acc[("indist", t)] for t in tasks]); outd = np.mean([acc[("outdist", t)] for t in tasks])
print(f"in {ind*100:.1f}% out {outd*100:.1f}% train {time.time()-t0:.0f}s |", " ".join(f"{t}:{acc[('indist', t)]*100:.0f}" for t in tasks), "|", {k: v for k, v in vars(args).items() if k not in ("dump", "val")})
print(tasks); print(conf)
