"""examples/vision/ run end to end as subprocesses on tiny slices of the real Fashion-MNIST."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import ferrotorch
from ferrovision.datasets import FashionMNIST

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(REPO, "examples", "vision")
pytestmark = pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                                reason="dataset-fashion-mnist is not installed")


def run_example(script, *args, cwd):
    """Run an example with this interpreter (and its PYTHONPATH); return its stdout."""
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *map(str, args)], cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def test_train_resnet_checkpoints_and_resumes(tmp_path):
    pytest.importorskip("tqdm")
    checkpoint = tmp_path / "ck" / "resnet8.pt"
    common = ["--epochs", 2, "--limit", 192, "--batch-size", 64, "--workers", 2, "--checkpoint", checkpoint, "--root", tmp_path]
    out = run_example("train_resnet_fashion_mnist.py", "--stop-after", 1, *common, cwd=tmp_path)
    assert "192 training / 192 test images; 2 workers" in out
    assert "epoch 1: test accuracy" in out and "epoch 2" not in out
    state = ferrotorch.load(str(checkpoint))
    assert state["epoch"] == 1 and set(state) == {"epoch", "epochs", "model", "optimizer", "scheduler", "rng_state"}
    assert state["scheduler"]["last_epoch"] == 3  # 192 images in batches of 64
    first_weights = state["model"]["fc.weight"].numpy().copy()

    out = run_example("train_resnet_fashion_mnist.py", "--resume", *common, cwd=tmp_path)
    assert f"resumed from {checkpoint} after epoch 1" in out
    assert "epoch 2: test accuracy" in out and "epoch 1: test accuracy" not in out
    state = ferrotorch.load(str(checkpoint))
    assert state["epoch"] == 2 and state["scheduler"]["last_epoch"] == 6
    assert not np.array_equal(state["model"]["fc.weight"].numpy(), first_weights)

    # The learning-rate schedule belongs to the run: resuming it with another length is refused.
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, "train_resnet_fashion_mnist.py"), "--resume",
                             "--epochs", "3", "--checkpoint", str(checkpoint)], capture_output=True, text=True)
    assert result.returncode == 2 and "holds a run of 2 epochs, not --epochs 3" in result.stderr


def write_image_folder(root, per_class=24):
    """Three well-separated Fashion-MNIST classes as PNGs, upscaled to 40x40 RGB so the preprocessing
    (grayscale, resize, crop) has work to do."""
    data = FashionMNIST("/nonexistent", train=False)
    labels = data.targets.numpy()
    for label, name in [(1, "trouser"), (7, "sneaker"), (8, "bag")]:
        os.makedirs(root / name)
        for i, index in enumerate(np.flatnonzero(labels == label)[:per_class]):
            image = Image.fromarray(data.data[int(index)].numpy(), mode="L").convert("RGB").resize((40, 40))
            image.save(root / name / f"{i:03d}.png")


@pytest.mark.parametrize("model, freeze", [("resnet8", "backbone"), ("lenet5", "none")])
def test_finetune_imagefolder(tmp_path, model, freeze):
    write_image_folder(tmp_path / "images")
    out_file = tmp_path / "tuned.pt"
    out = run_example("finetune_imagefolder.py", tmp_path / "images", "--model", model, "--freeze", freeze,
                      "--epochs", 3, "--val-fraction", 0.25, "--out", out_file, cwd=tmp_path)
    assert "3 classes ['bag', 'sneaker', 'trouser']" in out and "54 training / 18 validation images" in out
    head = {"resnet8": "fc", "lenet5": "classifier.4"}[model]
    assert f"new head '{head}'" in out
    # The pretrained features separate these classes well: the new head learns them in a few steps.
    last = [line for line in out.splitlines() if line.startswith("epoch 3:")][0]
    assert float(last.rsplit(" ", 1)[1]) >= 0.8, out
    state = ferrotorch.load(str(out_file))
    assert tuple(state[f"{head}.weight"].shape)[0] == 3
    if freeze == "backbone":  # frozen layers are still the shipped ones
        from ferrovision.models import ResNet8_Weights
        shipped = ferrotorch.load(ResNet8_Weights.DEFAULT.url)
        np.testing.assert_array_equal(state["conv1.weight"].numpy(), shipped["conv1.weight"].numpy())
