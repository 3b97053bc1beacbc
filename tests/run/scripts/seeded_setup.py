"""The set-up code that opens many PyTorch scripts: seeding every library, cuDNN flags,
deterministic algorithms, float limits, default dtype and print options."""

import random

import numpy as np
import torch

from _common import report


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)


def main():
    set_seed(0)
    torch.set_default_dtype(torch.float32)
    torch.set_printoptions(precision=4)
    eps = torch.finfo(torch.float32).eps
    big = torch.iinfo(torch.int32).max
    x = torch.linspace(0, 1, 5)
    safe_log = torch.log(x.clamp(min=eps))
    report("min_log", safe_log.min().item())
    report("int32_max", big)
    report("pi", torch.pi)


if __name__ == "__main__":
    main()
