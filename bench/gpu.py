"""GPU benchmarks of the CUDA backend against PyTorch on the same card, with the issues'
targets: bf16 GEMM 8192 and f32 GEMM 4096 at >= 0.9x PyTorch's TFLOP/s, add and sum of 64M
floats at >= 0.85x its bandwidth, a 16-element add's launch overhead <= PyTorch's; training
steps (ResNet-18 on CIFAR shapes at batch 256 in float32 and under bf16 autocast, a GPT-style
model, an LSTM) within 1.5x of PyTorch's eager time; an Adam step over 10M parameters at or
below PyTorch's fused Adam.

    python bench/gpu.py [--repeats N] [--after WORKLOAD]

Each workload is written once against the torch API and run on both libraries. A library that
cannot run a workload (ferrotorch before CUDA tensors land, or no GPU) gets "n/a" and the
reason; the table is printed either way. Also reports NVRTC's first-use compile time. A
ferrotorch failure that leaves the process's CUDA context unusable (an illegal address is
sticky) would take every later row with it, PyTorch's included: the bench then starts itself
afresh after that row (`--after`).
"""

import argparse
import importlib
import os
import statistics
import sys
import time
import traceback

import ferrotorch

try:
    import torch
except Exception:  # the reference is optional; its column is then empty
    torch = None


def gemm(dtype_name, n):
    flops = 2 * n**3

    def build(lib):
        dtype = getattr(lib, dtype_name)
        a = lib.randn(n, n, device="cuda").to(dtype)
        b = lib.randn(n, n, device="cuda").to(dtype)
        return lambda: lib.matmul(a, b)

    return build, lambda seconds: f"{flops / seconds / 1e12:8.1f} TFLOP/s", 0.9


def add(n):
    moved = 3 * 4 * n

    def build(lib):
        a, b = lib.randn(n, device="cuda"), lib.randn(n, device="cuda")
        return lambda: a + b

    return build, lambda seconds: f"{moved / seconds / 1e9:8.0f} GB/s", 0.85


def total(n):
    moved = 4 * n

    def build(lib):
        a = lib.randn(n, device="cuda")
        return lambda: a.sum()

    return build, lambda seconds: f"{moved / seconds / 1e9:8.0f} GB/s", 0.85


def small_add():
    def build(lib):
        a, b = lib.randn(16, device="cuda"), lib.randn(16, device="cuda")
        return lambda: a + b

    return build, lambda seconds: f"{seconds * 1e6:8.2f} us/op", 1.0


def basic_block(nn, cin, cout, stride):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
            self.skip = nn.Sequential()
            if stride != 1 or cin != cout:
                self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            return (self.body(x) + self.skip(x)).relu()

    return Block()


def resnet18(nn):
    """ResNet-18 for 32x32 inputs (a 3x3 stem, no max pool), 10 classes."""
    layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [basic_block(nn, cin, cout, stride), basic_block(nn, cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
    return nn.Sequential(*layers)


def gpt(lib, vocab=512, d=384, heads=6, layers=6, context=256):
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(context, d)
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

        def forward(self, idx):
            x = self.tok(idx) + self.pos(lib.arange(idx.shape[1], device=idx.device))
            return self.head(self.ln(self.blocks(x)))

    return GPT()


def train_step(make_model, make_batch, make_optimizer, autocast=None):
    """One training step (forward, loss, backward, optimizer step) of a model on the GPU."""

    def build(lib):
        lib.manual_seed(0)
        model = make_model(lib).cuda()
        x, y = make_batch(lib)
        opt = make_optimizer(lib, model)
        loss_fn = lib.nn.functional.cross_entropy

        def step():
            opt.zero_grad(set_to_none=True)
            if autocast is None:
                out = model(x)
            else:
                with lib.autocast("cuda", dtype=getattr(lib, autocast)):
                    out = model(x)
            loss_fn(out.float().reshape(-1, out.shape[-1]), y.reshape(-1)).backward()
            opt.step()

        return step

    return build, lambda seconds: f"{seconds * 1e3:8.1f} ms/step", 1 / 1.5


def sgd(lib, model):
    return lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def cifar_batch(lib):
    return lib.randn(256, 3, 32, 32, device="cuda"), lib.randint(0, 10, (256,), device="cuda")


def tokens(lib):
    idx = lib.randint(0, 512, (64, 257), device="cuda")
    return idx[:, :-1].contiguous(), idx[:, 1:].contiguous()


class LSTMClassifier:
    """LSTM(64, 128) over 50 steps of a batch of 32, then a linear layer on the last state."""

    def __new__(cls, lib):
        nn = lib.nn

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm, self.head = nn.LSTM(64, 128, batch_first=True), nn.Linear(128, 10)

            def forward(self, x):
                return self.head(self.lstm(x)[0][:, -1])

        return Model()


def sequences(lib):
    return lib.randn(32, 50, 64, device="cuda"), lib.randint(0, 10, (32,), device="cuda")


def adam_step(n):
    def build(lib):
        params = [lib.zeros(n // 10, device="cuda").requires_grad_() for _ in range(10)]
        for p in params:
            p.grad = lib.randn(n // 10, device="cuda")
        # PyTorch's fastest, fused=True; ferrotorch's update is always one fused kernel.
        opt = lib.optim.Adam(params, lr=1e-3, fused=True) if lib is torch else lib.optim.Adam(params, lr=1e-3)
        return opt.step

    return build, lambda seconds: f"{seconds * 1e3:8.2f} ms/step", 1.0


def attention(dtype_name, backends=None):
    """Causal attention of the GPT workload's shape (64 x 6 heads x 256 x 64), forward and
    backward, each library choosing its backend, or both held to `backends` (names of
    `nn.attention.SDPBackend`; ferrotorch's fused kernels answer to FLASH_ATTENTION and
    EFFICIENT_ATTENTION). No target of its own; the GPT step carries the issue's."""
    def build(lib):
        dtype = getattr(lib, dtype_name)
        q, k, v = (lib.randn(64, 6, 256, 64, device="cuda").to(dtype).requires_grad_() for _ in range(3))

        def run():
            lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()

        if backends is None:
            return run
        attn = importlib.import_module(lib.__name__ + ".nn.attention")
        allowed = [getattr(attn.SDPBackend, name) for name in backends]

        def held():
            with attn.sdpa_kernel(allowed):
                run()

        return held

    return build, lambda seconds: f"{seconds * 1e3:8.2f} ms", None


def layer(make):
    """One layer of the ResNet workload's first stage (256 x 64 x 32 x 32, float32), forward and
    backward: the convolution's and batch norm's share of the step (no target of their own)."""
    def build(lib):
        x = lib.randn(256, 64, 32, 32, device="cuda").requires_grad_()
        module = make(lib.nn).cuda()
        return lambda: module(x).sum().backward()

    return build, lambda seconds: f"{seconds * 1e3:8.2f} ms", None


def without_cudnn(workload):
    """`workload` with cuDNN switched off in both libraries: ferrotorch's im2col + cuBLAS
    convolution beside PyTorch's own fallback (no target)."""
    build, show, _ = workload

    def build_off(lib):
        fn = build(lib)

        def run():
            with lib.backends.cudnn.flags(enabled=False):
                fn()

        return run

    return build_off, show, None


WORKLOADS = {
    "bf16 GEMM 8192": gemm("bfloat16", 8192),
    "f32 GEMM 4096": gemm("float32", 4096),
    "add 64M f32": add(64 * 2**20),
    "sum 64M f32": total(64 * 2**20),
    "add 16 f32 (launch)": small_add(),
    "ResNet-18 b256 f32": train_step(lambda lib: resnet18(lib.nn), cifar_batch, sgd),
    "ResNet-18 b256 bf16": train_step(lambda lib: resnet18(lib.nn), cifar_batch, sgd, autocast="bfloat16"),
    "GPT 6x384 b64 AdamW": train_step(gpt, tokens, lambda lib, m: lib.optim.AdamW(m.parameters(), lr=3e-4)),
    "LSTM 64->128 32x50": train_step(LSTMClassifier, sequences, sgd),
    "SDPA causal bf16": attention("bfloat16"),
    "SDPA causal bf16 fused": attention("bfloat16", ["FLASH_ATTENTION"]),
    "SDPA causal f32": attention("float32"),
    "SDPA causal f32 fused": attention("float32", ["EFFICIENT_ATTENTION"]),
    "conv 3x3 b256 f32": layer(lambda nn: nn.Conv2d(64, 64, 3, padding=1, bias=False)),
    "conv 3x3 no cuDNN": without_cudnn(layer(lambda nn: nn.Conv2d(64, 64, 3, padding=1, bias=False))),
    "batch norm b256 f32": layer(lambda nn: nn.BatchNorm2d(64)),
    "Adam 10M params": adam_step(10_000_000),
}

# A first call slower than this (seconds) means one timed call instead of repeats x inner.
SLOW_CALL = 1.0

# Training steps take milliseconds: fewer calls per timing.
INNER = {name: 3 for name in WORKLOADS if "b256" in name or "GPT" in name or "LSTM" in name}


def measure(lib, build, repeats, inner=20):
    """Median seconds per call of the workload, or the reason it cannot run."""
    try:
        fn = build(lib)
        fn()  # compiles kernels, picks algorithms, fills the caches
        lib.cuda.synchronize()
        start = time.perf_counter()
        fn()
        lib.cuda.synchronize()
        if time.perf_counter() - start > SLOW_CALL:
            # A slow workload (seconds per warm call) gets one timed call: the table must fit a lease.
            repeats, inner = 1, 1
        fn()
        lib.cuda.synchronize()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            lib.cuda.synchronize()
            times.append((time.perf_counter() - start) / inner)
        return statistics.median(times)
    except Exception as e:  # noqa: BLE001 - any failure is reported in the table
        traceback.print_exc()  # the whole story on stderr; the table keeps one line
        return f"n/a ({type(e).__name__}: {str(e).splitlines()[0][:60]})"


def compile_times():
    """NVRTC's time for the `binary_add` module (all dtypes) for the device, bypassing caches:
    the one-time cost of a first `a + b`."""
    from ferrotorch import _C

    if not ferrotorch.cuda.is_available():
        return "n/a (no GPU)"
    arch = "sm_{}{}".format(*ferrotorch.cuda.get_device_capability())
    start = time.perf_counter()
    _C._cuda_compile_kernels(arch, ["binary_add"])
    return f"binary_add for {arch}: {time.perf_counter() - start:.2f} s (uncached)"


def context_lost():
    """Whether the process's CUDA context no longer runs PyTorch's work (a sticky error): two
    failed waits in a row (one can be ferrotorch's own pending error, which the wait clears).
    Never without a GPU or the reference."""
    if torch is None or not ferrotorch.cuda.is_available():
        return False
    for _ in range(2):
        try:
            torch.cuda.synchronize()
            return False
        except Exception:  # noqa: BLE001 - any failure to wait counts
            continue
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--after", help="start after this workload (a fresh process continuing the table)")
    args = parser.parse_args()
    names = list(WORKLOADS)
    if args.after is None:
        card = ferrotorch.cuda.get_device_name() if ferrotorch.cuda.is_available() else "no GPU"
        print(f"card: {card}   date: {time.strftime('%Y-%m-%d')}   torch: {getattr(torch, '__version__', 'absent')}")
        print(f"{'workload':<22}{'ferrotorch':>32}{'PyTorch':>32}{'ratio':>8}  target (ratio: PyTorch time / ours)")
    else:
        names = names[names.index(args.after) + 1:]
    for name in names:
        build, show, target = WORKLOADS[name]
        inner = INNER.get(name, 20)
        ours = measure(ferrotorch, build, args.repeats, inner)
        if isinstance(ours, str) and context_lost():
            print(f"{name:<22}{ours[:32]:>32}{'n/a (CUDA context lost)':>32}", flush=True)
            os.execv(sys.executable, [sys.executable, __file__, "--repeats", str(args.repeats), "--after", name])
        ref = measure(torch, build, args.repeats, inner) if torch is not None else "n/a (torch absent)"
        cells = [show(v) if isinstance(v, float) else v for v in (ours, ref)]
        ratio = ""
        if isinstance(ours, float) and isinstance(ref, float):
            # Higher throughput is better; for the launch row lower time is better.
            ratio = f"{(ref / ours):.2f}x"
        goal = f">= {target:.2f}x" if target is not None else "(no target)"
        print(f"{name:<22}{cells[0][:32]:>32}{cells[1][:32]:>32}{ratio:>8}  {goal}", flush=True)
    print("NVRTC:", compile_times())


if __name__ == "__main__":
    main()
