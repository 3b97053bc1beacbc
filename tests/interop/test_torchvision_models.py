"""torchvision as the reference for ferrovision.models (skipped where it is not installed): with the
same (random, well-scaled) weights copied over through NumPy, every architecture family gives
torchvision's logits, in eval mode (running statistics) and, for a few, train mode (batch statistics)."""

import os
import sys

import numpy as np
import pytest

import ferrotorch
import ferrovision.models as models

torchvision = pytest.importorskip("torchvision")
torch = pytest.importorskip("torch")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "vision", "data"))
from synthetic_state import synthetic_state  # noqa: E402

# Builders taking the library's `models` namespace, so both sides build the same thing. Named
# architectures where they are small; otherwise the family's class in a narrow, shallow configuration
# (the named configurations' structures are checked key by key in tests/vision/test_models.py).
def _vit(lib, **kw):
    return lib.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                                 num_classes=10, **kw)


def _swin(lib, v2):
    extra = {"block": lib.swin_transformer.SwinTransformerBlockV2,
             "downsample_layer": lib.swin_transformer.PatchMergingV2} if v2 else {}
    return lib.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=[3, 3],
                               num_classes=10, **extra)


def _efficientnet_v2(lib):
    m = lib.efficientnet
    setting = [m.FusedMBConvConfig(1, 3, 1, 8, 8, 1), m.FusedMBConvConfig(4, 3, 2, 8, 16, 2),
               m.MBConvConfig(4, 3, 2, 16, 24, 2)]
    return lib.EfficientNet(setting, dropout=0.2, last_channel=64, num_classes=10)


CASES = {
    "alexnet": (lambda lib: lib.alexnet(num_classes=10), 64),
    "resnet18": (lambda lib: lib.resnet18(num_classes=10), 32),
    "resnext": (lambda lib: lib.ResNet(lib.resnet.Bottleneck, [1, 1, 1, 1], groups=4, width_per_group=8,
                                       num_classes=10), 32),
    "densenet": (lambda lib: lib.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16,
                                          num_classes=10), 32),
    "squeezenet1_0": (lambda lib: lib.squeezenet1_0(num_classes=10), 32),
    "squeezenet1_1": (lambda lib: lib.squeezenet1_1(num_classes=10), 32),
    "shufflenet_v2_x0_5": (lambda lib: lib.shufflenet_v2_x0_5(num_classes=10), 32),
    "mobilenet_v2": (lambda lib: lib.mobilenet_v2(num_classes=10), 32),
    "mobilenet_v3_small": (lambda lib: lib.mobilenet_v3_small(num_classes=10), 32),
    "mobilenet_v3_large_dilated": (lambda lib: lib.mobilenet_v3_large(num_classes=10, dilated=True,
                                                                      reduced_tail=True), 32),
    "efficientnet_b0": (lambda lib: lib.efficientnet_b0(num_classes=10), 32),
    "efficientnet_v2": (_efficientnet_v2, 32),
    "regnet_y_400mf": (lambda lib: lib.regnet_y_400mf(num_classes=10), 32),
    "regnet_x": (lambda lib: lib.RegNet(lib.regnet.BlockParams(depths=[1, 2], widths=[16, 32], group_widths=[8, 8],
                                                               bottleneck_multipliers=[1.0, 1.0], strides=[2, 2]),
                                        stem_width=8, num_classes=10), 32),
    "convnext": (lambda lib: lib.ConvNeXt([lib.convnext.CNBlockConfig(16, 32, 1),
                                           lib.convnext.CNBlockConfig(32, None, 2)], num_classes=10), 32),
    "vit": (lambda lib: _vit(lib), 32),
    "vit_representation": (lambda lib: _vit(lib, representation_size=12), 32),
    "swin": (lambda lib: _swin(lib, v2=False), 40),
    "swin_v2": (lambda lib: _swin(lib, v2=True), 40),
}
TRAIN_CASES = ["resnet18", "densenet", "regnet_x"]  # no dropout, so train mode is deterministic


def build_pair(name):
    """The torchvision and ferrovision models of a case, with the same synthetic weights."""
    torch.manual_seed(0)
    build = CASES[name][0]
    reference, ours = build(torchvision.models), build(models)
    ref_state = reference.state_dict()
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref_state.items()]
    float_keys = [(k, tuple(v.shape)) for k, v in ref_state.items() if v.is_floating_point()]
    state = synthetic_state(float_keys, seed=0)
    # Integer buffers (relative position indices, batch counters) are structure, not weights: keep them.
    state.update({k: v.numpy().copy() for k, v in ref_state.items() if not v.is_floating_point()})
    reference.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()}, strict=True)
    ours.load_state_dict({k: ferrotorch.from_numpy(v) for k, v in state.items()}, strict=True)
    return reference, ours


def run_both(reference, ours, size, train, batch=2):
    x = np.random.default_rng(1).standard_normal((batch, 3, size, size)).astype(np.float32)
    reference.train(train)
    ours.train(train)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with ferrotorch.no_grad():
        got = ours(ferrotorch.from_numpy(x)).numpy()
    return got, expected


@pytest.mark.parametrize("name", list(CASES))
def test_eval_logits_match_torchvision(name):
    reference, ours = build_pair(name)
    got, expected = run_both(reference, ours, CASES[name][1], train=False)
    assert np.abs(expected).max() > 1e-3  # the comparison means something
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("name", TRAIN_CASES)
def test_train_logits_and_running_stats_match_torchvision(name):
    reference, ours = build_pair(name)
    # Batch statistics over enough values that float32 rounding is not amplified by a tiny variance.
    got, expected = run_both(reference, ours, 64, train=True, batch=4)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    ref_state = reference.state_dict()
    for key, value in ours.state_dict().items():
        if key.endswith(("running_mean", "running_var")):
            np.testing.assert_allclose(value.numpy(), ref_state[key].numpy(), rtol=1e-4, atol=1e-5)


def test_default_init_statistics_resemble_torchvision():
    torch.manual_seed(0)
    for name, pick in [("resnet18", lambda m: m.layer2[0].conv1.weight),
                       ("efficientnet_b0", lambda m: m.classifier[1].weight),
                       ("regnet_x_400mf", lambda m: m.stem[0].weight)]:
        expected = pick(torchvision.models.get_model(name)).detach().numpy()
        got = pick(models.get_model(name)).detach().numpy()
        assert got.shape == expected.shape
        assert abs(got.std() / expected.std() - 1) < 0.1, name
        assert abs(got.mean() - expected.mean()) < 0.1 * expected.std(), name


def test_weights_transforms_match_torchvision_preset():
    from PIL import Image
    pixels = np.random.default_rng(2).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    chw = np.ascontiguousarray(pixels.transpose(2, 0, 1))
    for name in ["ResNet50_Weights.IMAGENET1K_V2", "ViT_B_16_Weights.IMAGENET1K_V1"]:
        theirs = torchvision.models.get_weight(name).transforms()
        preset = models.get_weight(name).transforms()
        assert repr(preset) == repr(theirs)
        # PIL images are resized by PIL in both libraries: identical.
        np.testing.assert_allclose(preset(Image.fromarray(pixels)).numpy(), theirs(Image.fromarray(pixels)).numpy(),
                                   rtol=0, atol=1e-6)
        floats = chw[None].astype(np.float32) / 255
        np.testing.assert_allclose(preset(ferrotorch.from_numpy(floats)).numpy(),
                                   theirs(torch.from_numpy(floats)).numpy(), rtol=0, atol=1e-5)
        # torch resizes uint8 tensors bilinearly with an integer kernel: one grey level apart at most.
        np.testing.assert_allclose(preset(ferrotorch.from_numpy(chw)).numpy(), theirs(torch.from_numpy(chw)).numpy(),
                                   rtol=0, atol=1.01 / 255 / 0.224)


def test_torch_saved_checkpoint_loads_through_the_weights_api(tmp_path, monkeypatch):
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None).eval()
    # Running statistics away from their defaults, so batch norm is not the identity.
    for m in reference.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    # Stored in the hub cache under the published file name, as a download would leave it.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    path = cache / os.path.basename(models.ResNet18_Weights.IMAGENET1K_V1.url)
    torch.save(reference.state_dict(), path)
    ours = models.resnet18(weights=models.ResNet18_Weights.IMAGENET1K_V1, progress=False).eval()
    x = np.random.default_rng(3).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with ferrotorch.no_grad():
        got = ours(ferrotorch.from_numpy(x)).numpy()
    for key, value in reference.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    # The same file read in place by path.
    state = models._hub.load_state_dict_from_url(str(path))
    assert list(state) == list(reference.state_dict())


def test_memory_efficient_densenet_gradients_and_running_stats_match_torchvision():
    def build(lib):
        return lib.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, num_classes=5,
                            memory_efficient=True)

    reference, ours = build(torchvision.models), build(models)
    state = synthetic_state([(k, tuple(v.shape)) for k, v in reference.state_dict().items()], seed=7)
    reference.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    ours.load_state_dict({k: ferrotorch.from_numpy(v) for k, v in state.items()})
    # float64: train-mode batch norm on a small batch amplifies float32 rounding in small gradients.
    reference.double()
    ours.double()
    x = np.random.default_rng(8).standard_normal((4, 3, 16, 16))
    x_ref, x_ours = torch.from_numpy(x.copy()).requires_grad_(), ferrotorch.from_numpy(x.copy()).requires_grad_(True)
    reference(x_ref).square().sum().backward()
    ours(x_ours).square().sum().backward()
    scale = np.abs(x_ref.grad.numpy()).max()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_ref.grad.numpy(), rtol=1e-9, atol=1e-9 * scale)
    ref_params = dict(reference.named_parameters())
    for name, p in ours.named_parameters():
        expected = ref_params[name].grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max(),
                                   err_msg=name)
    # The recomputation in backward runs the bottleneck's batch norm a second time, in both libraries.
    ref_state = reference.state_dict()
    for key, value in ours.state_dict().items():
        if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            np.testing.assert_allclose(value.numpy(), ref_state[key].numpy(), rtol=1e-9, atol=1e-12, err_msg=key)
    assert int(ref_state["features.denseblock1.denselayer1.norm1.num_batches_tracked"]) == 2
