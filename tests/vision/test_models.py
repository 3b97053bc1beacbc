"""ferrovision.models: the weights API, torchvision-identical state dicts and weights enums, logits
against torchvision's on fixed inputs, default initialization, and the blocks in ops.misc."""

import hashlib
import json
import math
import os
import re
import sys

import numpy as np
import pytest
from PIL import Image

import ferrotorch
import ferrovision.models as models
from ferrovision.models import _hub
from ferrovision.transforms._presets import ImageClassification, InterpolationMode
from ferrovision.models._utils import IntermediateLayerGetter, _make_divisible
from ferrovision.ops import (MLP, Conv2dNormActivation, FrozenBatchNorm2d, Permute, SqueezeExcitation,
                             StochasticDepth, stochastic_depth)

DATA = os.path.join(os.path.dirname(__file__), "data")
sys.path.insert(0, DATA)
from synthetic_state import synthetic_state  # noqa: E402

with open(os.path.join(DATA, "models_reference.json")) as f:
    REFERENCE = json.load(f)
LOGITS = np.load(os.path.join(DATA, "models_logits.npz"))
# Models cheap enough to build here (the rest are checked against torchvision in tests/interop).
SMALL = ["squeezenet1_0", "squeezenet1_1", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "mobilenet_v2",
         "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "regnet_y_400mf", "densenet121", "resnet18"]


def keys_hash(keys_shapes):
    text = "\n".join(f"{k}:{','.join(str(d) for d in s)}" for k, s in keys_shapes)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def keys_shapes(model):
    return [(k, list(v.shape)) for k, v in model.state_dict().items()]


def load_numpy_state(model, state):
    model.load_state_dict({k: ferrotorch.from_numpy(v) for k, v in state.items()}, strict=True)


# --- registry ---------------------------------------------------------------------------------------

def test_list_models_holds_every_torchvision_classification_model_plus_ferrovisions_own():
    assert set(models.list_models()) == set(REFERENCE["models"]) | {"lenet5", "resnet8"}


def test_list_models_filters_by_module_and_patterns():
    assert models.list_models(module=models, include="resnet*", exclude=["*101", "*152", "resnet8"]) == \
        ["resnet18", "resnet34", "resnet50"]
    assert models.list_models(include=["vit_b_*", "lenet*"]) == ["lenet5", "vit_b_16", "vit_b_32"]


def test_get_model_passes_config_and_is_case_insensitive():
    model = models.get_model("SqueezeNet1_1", num_classes=7)
    assert isinstance(model, models.SqueezeNet) and model.classifier[1].out_channels == 7
    with pytest.raises(ValueError, match="Unknown model not_a_model"):
        models.get_model("not_a_model")


def test_register_model_refuses_duplicates():
    with pytest.raises(ValueError, match="An entry is already registered under the name 'resnet18'"):
        models._api.register_model("resnet18")(lambda: None)


def test_get_model_weights_by_name_and_builder():
    assert models.get_model_weights("resnet50") is models.ResNet50_Weights
    assert models.get_model_weights(models.vit_b_16) is models.ViT_B_16_Weights
    with pytest.raises(ValueError, match="missing the 'weights' argument"):
        models.get_model_weights(lambda x: x)


def test_get_weight_by_full_name():
    assert models.get_weight("ResNet50_Weights.IMAGENET1K_V2") is models.ResNet50_Weights.IMAGENET1K_V2
    assert models.get_weight("ResNet50_Weights.DEFAULT") is models.ResNet50_Weights.IMAGENET1K_V2
    with pytest.raises(ValueError, match="Invalid weight name provided: 'resnet50'"):
        models.get_weight("resnet50")
    with pytest.raises(ValueError, match="The weight enum 'Nope_Weights'"):
        models.get_weight("Nope_Weights.X")


def test_weights_verify_accepts_members_and_names():
    enum = models.ResNet18_Weights
    assert enum.verify(None) is None
    assert enum.verify("DEFAULT") is enum.IMAGENET1K_V1
    assert enum.verify("ResNet18_Weights.IMAGENET1K_V1") is enum.IMAGENET1K_V1
    assert repr(enum.DEFAULT) == "ResNet18_Weights.IMAGENET1K_V1"
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received ResNet34_Weights"):
        enum.verify(models.ResNet34_Weights.DEFAULT)
    with pytest.raises(KeyError):
        enum.verify("IMAGENET1K_V9")


def test_pretrained_weights_fix_num_classes():
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead."):
        models.resnet18(weights="DEFAULT", num_classes=10)


# --- weights enums: the same records as torchvision's -----------------------------------------------

@pytest.mark.parametrize("enum_name", sorted(REFERENCE["weights"]))
def test_weights_enum_matches_torchvision(enum_name):
    enum = getattr(models, enum_name)
    expected = REFERENCE["weights"][enum_name]
    assert list(enum.__members__) == list(expected)
    for name, record in expected.items():
        member = enum[name]
        if "alias_of" in record:
            assert member.name == record["alias_of"]
            continue
        assert member.url == record["url"]
        keywords = json.loads(json.dumps({k: (v.name if isinstance(v, InterpolationMode) else v)
                                          for k, v in member.transforms.keywords.items()}))
        assert member.transforms.func is ImageClassification and keywords == record["transforms"]
        meta = dict(member.meta)
        categories = meta.pop("categories")
        cat_sha = None if categories is None else hashlib.sha256("\n".join(categories).encode()).hexdigest()[:16]
        assert cat_sha == record["meta"].pop("categories_sha")
        # Compared as JSON text so that tuples equal lists and NaN metrics (VGG16 features) equal NaN.
        assert json.dumps(meta, sort_keys=True) == json.dumps(record["meta"], sort_keys=True)


# --- state dicts and logits -------------------------------------------------------------------------

@pytest.mark.parametrize("name", SMALL)
def test_state_dict_keys_shapes_and_parameter_count_match_torchvision(name):
    model = models.get_model(name)
    expected = REFERENCE["models"][name]
    ks = keys_shapes(model)
    if "keys" in expected:
        assert ks == [(k, s) for k, s in expected["keys"]]
    assert keys_hash(ks) == expected["keys_sha"]
    assert sum(p.numel() for p in model.parameters()) == expected["num_params"]


@pytest.mark.parametrize("name,mode", [("resnet18", "eval"), ("resnet18", "train"), ("mobilenet_v3_small", "eval"),
                                       ("squeezenet1_0", "eval")])
def test_logits_match_torchvision_reference(name, mode):
    model = models.get_model(name, num_classes=10)
    load_numpy_state(model, synthetic_state(keys_shapes(model), seed=0))
    model.train(mode == "train")
    with ferrotorch.no_grad():
        out = model(ferrotorch.from_numpy(LOGITS["input"])).numpy()
    np.testing.assert_allclose(out, LOGITS[f"{name}_{mode}"], rtol=1e-4, atol=1e-4)


def test_lenet5_layout_and_forward():
    model = models.lenet5()
    assert [(k, tuple(s)) for k, s in keys_shapes(model)] == [
        ("features.0.weight", (6, 1, 5, 5)), ("features.0.bias", (6,)), ("features.3.weight", (16, 6, 5, 5)),
        ("features.3.bias", (16,)), ("classifier.0.weight", (120, 400)), ("classifier.0.bias", (120,)),
        ("classifier.2.weight", (84, 120)), ("classifier.2.bias", (84,)), ("classifier.4.weight", (10, 84)),
        ("classifier.4.bias", (10,))]
    assert tuple(model(ferrotorch.randn(3, 1, 28, 28)).shape) == (3, 10)


def test_vision_transformer_configurable_image_size_and_checks():
    vit = models.VisionTransformer(image_size=32, patch_size=16, num_layers=1, num_heads=2, hidden_dim=8,
                                   mlp_dim=16, num_classes=3)
    assert tuple(vit.encoder.pos_embedding.shape) == (1, 5, 8)
    assert tuple(vit(ferrotorch.randn(2, 3, 32, 32)).shape) == (2, 3)
    with pytest.raises(RuntimeError, match="Wrong image height! Expected 32 but got 48!"):
        vit(ferrotorch.randn(1, 3, 48, 32))


def test_convnext_small_config_forward_shape():
    setting = [models.convnext.CNBlockConfig(8, 16, 1), models.convnext.CNBlockConfig(16, None, 1)]
    model = models.ConvNeXt(setting, num_classes=4)
    assert tuple(model(ferrotorch.randn(2, 3, 16, 16)).shape) == (2, 4)


# --- initialization follows torchvision -------------------------------------------------------------

def test_resnet_init_is_kaiming_fan_out_and_zero_init_residual():
    model = models.resnet18(zero_init_residual=True)
    w = model.layer3[0].conv1.weight.detach().numpy()
    fan_out = w.shape[0] * w.shape[2] * w.shape[3]
    assert abs(w.std() / math.sqrt(2.0 / fan_out) - 1) < 0.05 and abs(w.mean()) < 0.01 * w.std() * 10
    assert np.all(model.bn1.weight.detach().numpy() == 1) and np.all(model.bn1.bias.detach().numpy() == 0)
    assert np.all(model.layer1[0].bn2.weight.detach().numpy() == 0)


def test_mobilenet_linear_init_and_vit_zero_head():
    w = models.mobilenet_v3_small().classifier[0].weight.detach().numpy()
    assert abs(w.std() / 0.01 - 1) < 0.05
    vit = models.VisionTransformer(image_size=16, patch_size=8, num_layers=1, num_heads=1, hidden_dim=4, mlp_dim=4)
    assert np.all(vit.heads.head.weight.detach().numpy() == 0)


def _densenet_gradients(memory_efficient, x, state):
    """Train-mode gradients of a small float64 DenseNet: of the input, and of each parameter."""
    model = models.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, num_classes=5,
                            memory_efficient=memory_efficient).double()
    model.load_state_dict({k: ferrotorch.from_numpy(v.astype(np.float64) if v.dtype == np.float32 else v)
                           for k, v in state.items()})
    inp = ferrotorch.from_numpy(x.copy()).requires_grad_(True)
    model(inp).square().sum().backward()
    return inp.grad.numpy(), {name: p.grad.numpy() for name, p in model.named_parameters()}


def test_densenet_memory_efficient_checkpoints_and_keeps_gradients(monkeypatch):
    calls = []
    real = ferrotorch.utils.checkpoint.checkpoint
    monkeypatch.setattr(ferrotorch.utils.checkpoint, "checkpoint", lambda *a, **kw: calls.append(kw) or real(*a, **kw))
    structure = models.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, num_classes=5)
    state = synthetic_state(keys_shapes(structure), seed=5)
    x = np.random.default_rng(6).standard_normal((2, 3, 16, 16))
    x_grad, grads = _densenet_gradients(False, x, state)
    assert calls == []
    x_grad_cp, grads_cp = _densenet_gradients(True, x, state)
    assert calls == [{"use_reentrant": False}] * 4  # one per dense layer, as torchvision
    np.testing.assert_allclose(x_grad_cp, x_grad, rtol=1e-12, atol=1e-12)
    assert list(grads_cp) == list(grads)
    for name in grads:
        np.testing.assert_allclose(grads_cp[name], grads[name], rtol=1e-12, atol=1e-12, err_msg=name)


def test_densenet_memory_efficient_is_skipped_without_grad(monkeypatch):
    monkeypatch.setattr(ferrotorch.utils.checkpoint, "checkpoint", None)  # would fail if called
    model = models.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, num_classes=5,
                            memory_efficient=True).eval()
    with ferrotorch.no_grad():
        assert tuple(model(ferrotorch.randn(1, 3, 16, 16)).shape) == (1, 5)


# --- loading checkpoints from the hub cache (never downloading from the network) --------------------

def save_checkpoint(path, arrays):
    """Write ``{key: array}`` as a real checkpoint with :func:`ferrotorch.save`."""
    ferrotorch.save({k: ferrotorch.from_numpy(v) for k, v in arrays.items()}, str(path))


def test_builder_loads_weights_from_the_cache_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    weights = models.SqueezeNet1_1_Weights.IMAGENET1K_V1
    state = synthetic_state(keys_shapes(models.squeezenet1_1()), seed=3)
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    save_checkpoint(cache / os.path.basename(weights.url), state)
    model = models.squeezenet1_1(weights="DEFAULT", progress=False)
    np.testing.assert_array_equal(model.features[0].weight.detach().numpy(), state["features.0.weight"])


def test_densenet_renames_the_legacy_keys_of_published_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    # The published DenseNet files predate num_batches_tracked and name
    # "features.denseblock1.denselayer1.norm1.weight" "...norm.1.weight".
    state = synthetic_state(keys_shapes(models.densenet121()), seed=4)
    legacy = {re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", k): v for k, v in state.items()
              if not k.endswith("num_batches_tracked")}
    assert "features.denseblock1.denselayer1.norm.1.weight" in legacy
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    save_checkpoint(cache / os.path.basename(models.DenseNet121_Weights.IMAGENET1K_V1.url), legacy)
    model = models.densenet121(weights=models.DenseNet121_Weights.IMAGENET1K_V1, progress=False)
    np.testing.assert_array_equal(model.features.denseblock1.denselayer1.norm1.weight.detach().numpy(),
                                  state["features.denseblock1.denselayer1.norm1.weight"])


def test_load_state_dict_from_url_reads_a_local_path(tmp_path):
    path = tmp_path / "tiny.pth"
    save_checkpoint(path, {"w": np.arange(3.0)})
    assert models._hub.load_state_dict_from_url(str(path))["w"].tolist() == [0.0, 1.0, 2.0]


def test_load_state_dict_from_url_is_weights_only(tmp_path):
    path = tmp_path / "code.pth"
    ferrotorch.save({"w": ferrotorch.ones(2), "f": np.float64}, str(path))
    with pytest.raises(Exception, match="Weights only load failed"):
        models._hub.load_state_dict_from_url(str(path))
    assert models._hub.load_state_dict_from_url(str(path), weights_only=False)["f"] is np.float64


def test_download_checks_the_sha256_prefix_in_the_file_name(tmp_path):
    src = tmp_path / "src.pth"
    save_checkpoint(src, {"w": np.ones(2)})
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    good = tmp_path / f"good-{digest[:8]}.pth"
    good.write_bytes(src.read_bytes())
    model_dir = tmp_path / "cache"
    state = _hub.load_state_dict_from_url(good.as_uri(), model_dir=str(model_dir), check_hash=True, progress=False)
    assert state["w"].tolist() == [1.0, 1.0] and (model_dir / good.name).exists()
    bad = tmp_path / "bad-0000beef.pth"
    bad.write_bytes(src.read_bytes())
    with pytest.raises(RuntimeError, match='invalid hash value \\(expected "0000beef"'):
        _hub.load_state_dict_from_url(bad.as_uri(), model_dir=str(model_dir), check_hash=True, progress=False)
    assert not (model_dir / bad.name).exists()


def test_hub_dir_follows_torch_home(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert _hub.get_dir() == os.path.join(str(tmp_path), "hub")
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _hub.get_dir() == os.path.join(str(tmp_path), "torch", "hub")


# --- evaluation preset -------------------------------------------------------------------------------

def _pil_reference(image, resize, crop, mean, std, resample):
    """PIL's (antialiased) resize per channel, then a centre crop and normalization, in NumPy."""
    c, h, w = image.shape
    new_h, new_w = (resize, int(resize * w / h)) if h <= w else (int(resize * h / w), resize)
    chans = [np.asarray(Image.fromarray(ch, mode="F").resize((new_w, new_h), resample)) for ch in image]
    out = np.stack(chans)
    top, left = int(round((new_h - crop) / 2.0)), int(round((new_w - crop) / 2.0))
    out = out[:, top:top + crop, left:left + crop]
    return (out - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]


@pytest.mark.parametrize("mode,resample", [(InterpolationMode.BILINEAR, Image.BILINEAR),
                                           (InterpolationMode.BICUBIC, Image.BICUBIC)])
def test_image_classification_preset_matches_pil(mode, resample):
    image = np.random.default_rng(0).random((3, 40, 57)).astype(np.float32)
    preset = ImageClassification(crop_size=24, resize_size=30, interpolation=mode)
    out = preset(ferrotorch.from_numpy(image))
    expected = _pil_reference(image, 30, 24, preset.mean, preset.std, resample)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-4)


def test_image_classification_preset_resizes_pil_images_with_pil():
    pixels = np.random.default_rng(3).integers(0, 256, (45, 38, 3), dtype=np.uint8)
    preset = ImageClassification(crop_size=20, resize_size=26, interpolation=InterpolationMode.BICUBIC)
    resized = np.asarray(Image.fromarray(pixels).resize((26, 30), Image.BICUBIC)).astype(np.float32) / 255
    crop = resized[5:25, 3:23].transpose(2, 0, 1)
    mean, std = (np.array(v, np.float32)[:, None, None] for v in (preset.mean, preset.std))
    expected = (crop - mean) / std
    np.testing.assert_allclose(preset(Image.fromarray(pixels)).numpy(), expected, rtol=0, atol=1e-6)


def test_image_classification_preset_on_pil_image_and_repr():
    pixels = np.random.default_rng(1).integers(0, 256, (50, 40, 3), dtype=np.uint8)
    preset = models.ResNet18_Weights.DEFAULT.transforms()
    out = preset(Image.fromarray(pixels))
    assert tuple(out.shape) == (3, 224, 224) and out.dtype == ferrotorch.float32
    assert repr(preset) == ("ImageClassification(\n    crop_size=[224]\n    resize_size=[256]\n"
                            "    mean=[0.485, 0.456, 0.406]\n    std=[0.229, 0.224, 0.225]\n"
                            "    interpolation=InterpolationMode.BILINEAR\n)")


# --- ops.misc and stochastic depth ------------------------------------------------------------------

def test_stochastic_depth_modes_and_errors():
    x = ferrotorch.ones(6, 3)
    assert stochastic_depth(x, 0.5, "row", training=False) is x
    assert np.all(stochastic_depth(x, 1.0, "row").numpy() == 0)
    rows = stochastic_depth(ferrotorch.ones(200, 3), 0.5, "row").numpy()
    assert set(np.unique(rows)) <= {0.0, 2.0} and np.all(rows == rows[:, :1])
    batch = stochastic_depth(ferrotorch.ones(50, 3), 0.5, "batch").numpy()
    assert len(np.unique(batch)) == 1
    with pytest.raises(ValueError, match="drop probability has to be between 0 and 1, but got 1.5"):
        stochastic_depth(x, 1.5, "row")
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row', but got col"):
        stochastic_depth(x, 0.5, "col")
    assert repr(StochasticDepth(0.2, "row")) == "StochasticDepth(p=0.2, mode=row)"


def test_frozen_batch_norm_matches_numpy_and_ignores_num_batches_tracked():
    rng = np.random.default_rng(0)
    bn = FrozenBatchNorm2d(3)
    state = {"weight": rng.random(3), "bias": rng.random(3), "running_mean": rng.random(3),
             "running_var": rng.random(3) + 0.5}
    bn.load_state_dict({**{k: ferrotorch.from_numpy(v.astype(np.float32)) for k, v in state.items()},
                        "num_batches_tracked": ferrotorch.tensor(5)})
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    c = (slice(None), None, None)
    expected = (x - state["running_mean"][c]) / np.sqrt(state["running_var"][c] + 1e-5) * state["weight"][c] \
        + state["bias"][c]
    np.testing.assert_allclose(bn(ferrotorch.from_numpy(x)).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert repr(bn) == "FrozenBatchNorm2d(3, eps=1e-05)"


def test_conv2d_norm_activation_layout():
    block = Conv2dNormActivation(4, 8, kernel_size=5, stride=2, dilation=2)
    assert block[0].padding == (4, 4) and block[0].bias is None and block.out_channels == 8
    assert [type(m).__name__ for m in block] == ["Conv2d", "BatchNorm2d", "ReLU"]
    plain = Conv2dNormActivation(4, 8, kernel_size=(3, 5), norm_layer=None, activation_layer=None)
    assert plain[0].padding == (1, 2) and plain[0].bias is not None and len(plain) == 1


def test_squeeze_excitation_matches_numpy():
    rng = np.random.default_rng(2)
    se = SqueezeExcitation(4, 2)
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    w1, b1 = se.fc1.weight.detach().numpy()[:, :, 0, 0], se.fc1.bias.detach().numpy()
    w2, b2 = se.fc2.weight.detach().numpy()[:, :, 0, 0], se.fc2.bias.detach().numpy()
    pooled = x.mean(axis=(2, 3))
    gate = 1 / (1 + np.exp(-(np.maximum(pooled @ w1.T + b1, 0) @ w2.T + b2)))
    np.testing.assert_allclose(se(ferrotorch.from_numpy(x)).numpy(), x * gate[:, :, None, None], rtol=1e-5,
                               atol=1e-6)


def test_mlp_and_permute():
    mlp = MLP(4, [8, 2], dropout=0.1)
    assert [type(m).__name__ for m in mlp] == ["Linear", "ReLU", "Dropout", "Linear", "Dropout"]
    assert tuple(Permute([0, 2, 1])(ferrotorch.zeros(2, 3, 5)).shape) == (2, 5, 3)


def test_intermediate_layer_getter_and_make_divisible():
    getter = IntermediateLayerGetter(models.squeezenet1_1(), {"features": "feat"})
    out = getter(ferrotorch.randn(1, 3, 32, 32))
    assert list(out) == ["feat"] and tuple(out["feat"].shape) == (1, 512, 1, 1)
    with pytest.raises(ValueError, match="return_layers are not present in model"):
        IntermediateLayerGetter(models.lenet5(), {"nope": "x"})
    # Nearest multiple, at least the divisor, and bumped up when rounding lost more than 10%.
    assert [_make_divisible(v, d) for v, d in [(3, 8), (10, 8), (12, 8), (35.2, 8), (23, 16)]] == [8, 16, 16, 32, 32]
