# Copied from shared/bench-anchors/torch_srresnet.py (the PyTorch anchor the design notes quote), unchanged below.
# SRResNet (BasicSR MSRResNet without upsampling) CPU training-step / inference timing.
# usage: python torch_srresnet.py train F N BATCH PATCH STEPS [WARMUP]
#        python torch_srresnet.py infer F N SIZE REPS
#        python torch_srresnet.py export F N SIZE OUT.onnx
#        python torch_srresnet.py mm N REPS
import sys, time, torch, torch.nn as nn
torch.set_num_threads(2)

class ResidualBlockNoBN(nn.Module):
    def __init__(self, nf):
        super().__init__()
        self.conv1 = nn.Conv2d(nf, nf, 3, 1, 1); self.conv2 = nn.Conv2d(nf, nf, 3, 1, 1); self.relu = nn.ReLU(inplace=True)
    def forward(self, x):
        return x + self.conv2(self.relu(self.conv1(x)))

class SRResNet(nn.Module):   # BasicSR MSRResNet with upscale=1 (no pixel-shuffle)
    def __init__(self, nf=64, nb=16, c=3):
        super().__init__()
        self.conv_first = nn.Conv2d(c, nf, 3, 1, 1)
        self.body = nn.Sequential(*[ResidualBlockNoBN(nf) for _ in range(nb)])
        self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, c, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(0.1, inplace=True)
    def forward(self, x):
        feat = self.lrelu(self.conv_first(x))
        out = self.body(feat)
        out = self.conv_last(self.lrelu(self.conv_hr(out)))
        return out + x

def fwd_flops(nf, nb, h, w, b, c=3):   # 2*K*K*Cin*Cout*H*W per conv
    macs_px = 9 * (c * nf + 2 * nb * nf * nf + nf * nf + nf * c)
    return 2 * macs_px * h * w * b

mode = sys.argv[1]
print(f"torch {torch.__version__} threads={torch.get_num_threads()} mkldnn={torch.backends.mkldnn.is_available()}", flush=True)
if mode == 'train':
    nf, nb, bs, p, steps = map(int, sys.argv[2:7]); warm = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    torch.manual_seed(0)
    net = SRResNet(nf, nb); opt = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.9, 0.99))
    lq = torch.rand(bs, 3, p, p); gt = torch.rand(bs, 3, p, p); crit = nn.L1Loss()
    def step():
        opt.zero_grad(set_to_none=True)
        loss = crit(net(lq), gt); loss.backward(); opt.step(); return loss.item()
    for _ in range(warm): step()
    ts = []
    for _ in range(steps):
        t0 = time.perf_counter(); l = step(); ts.append(time.perf_counter() - t0)
    ts.sort(); med = ts[len(ts) // 2]
    f = fwd_flops(nf, nb, p, p, bs)
    print(f"train F={nf} N={nb} batch={bs} patch={p}: median {med:.4f} s/step (min {ts[0]:.4f}, max {ts[-1]:.4f}, n={steps}) "
          f"fwd {f/1e9:.2f} GFLOP, step~3x={3*f/1e9:.2f} GFLOP -> {3*f/med/1e9:.1f} GFLOP/s  loss={l:.4f}", flush=True)
elif mode == 'infer':
    nf, nb, s, reps = map(int, sys.argv[2:6])
    net = SRResNet(nf, nb).eval(); x = torch.rand(1, 3, s, s)
    with torch.no_grad():
        net(x); ts = []
        for _ in range(reps):
            t0 = time.perf_counter(); net(x); ts.append(time.perf_counter() - t0)
    ts.sort(); med = ts[len(ts) // 2]; f = fwd_flops(nf, nb, s, s, 1)
    print(f"infer F={nf} N={nb} {s}x{s}: median {med:.4f} s (min {ts[0]:.4f}, max {ts[-1]:.4f}, n={reps}) {f/1e9:.2f} GFLOP -> {f/med/1e9:.1f} GFLOP/s", flush=True)
elif mode == 'export':
    nf, nb, s = map(int, sys.argv[2:5]); out = sys.argv[5]
    torch.manual_seed(0); net = SRResNet(nf, nb).eval(); x = torch.rand(1, 3, s, s)
    torch.onnx.export(net, x, out, input_names=['lq'], output_names=['out'], opset_version=13)
    with torch.no_grad(): y = net(x)
    import numpy as np
    np.save(out + '.in.npy', x.numpy()); np.save(out + '.out.npy', y.numpy())
    print('exported', out)
elif mode == 'mm':
    n, reps = map(int, sys.argv[2:4]); a = torch.rand(n, n); b = torch.rand(n, n); a @ b; ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t0)
    ts.sort(); med = ts[len(ts) // 2]
    print(f"torch.mm {n}^3: median {med*1e3:.1f} ms -> {2*n**3/med/1e9:.1f} GFLOP/s", flush=True)
