"""Random transforms of ferrovision.transforms: parameter ranges, seeding, and output contracts."""

import math
import random

import numpy as np
import pytest
from PIL import Image

import ferrotorch
import ferrovision.transforms as T
from ferrovision.transforms import autoaugment


@pytest.fixture
def img(rng):
    return ferrotorch.from_numpy(rng.integers(0, 256, size=(3, 20, 30), dtype=np.uint8))


SEEDS = range(25)


def test_random_crop_params_stay_inside_the_image(img):
    for seed in SEEDS:
        ferrotorch.manual_seed(seed)
        i, j, h, w = T.RandomCrop.get_params(img, (7, 11))
        assert (h, w) == (7, 11) and 0 <= i <= 13 and 0 <= j <= 19
    assert T.RandomCrop.get_params(img, (20, 30)) == (0, 0, 20, 30)
    with pytest.raises(ValueError, match="is larger than input image size"):
        T.RandomCrop.get_params(img, (21, 5))


def test_random_resized_crop_params_respect_scale_and_ratio(img):
    for seed in SEEDS:
        ferrotorch.manual_seed(seed)
        i, j, h, w = T.RandomResizedCrop.get_params(img, [0.3, 0.6], [0.5, 2.0])
        assert 0 <= i and i + h <= 20 and 0 <= j and j + w <= 30
        # Rounding h and w moves the area and ratio by at most about a pixel's worth.
        assert 0.3 * 600 - (h + w) <= h * w <= 0.6 * 600 + (h + w)
        assert 0.5 * (h - 1) / (h + 1) <= w / h <= 2.0 * (h + 1) / (h - 1)


def test_random_resized_crop_falls_back_to_a_central_crop(img):
    # An area above the image's can never fit: after 10 tries, the largest centred crop of ratio 1.
    assert T.RandomResizedCrop.get_params(img, [2.0, 3.0], [1.0, 1.0]) == (0, 5, 20, 20)


def test_random_rotation_and_affine_params_in_range():
    for seed in SEEDS:
        ferrotorch.manual_seed(seed)
        assert -10.0 <= T.RandomRotation.get_params([-10.0, 25.0]) <= 25.0
        angle, (tx, ty), scale, (sx, sy) = T.RandomAffine.get_params(
            [-5.0, 5.0], [0.1, 0.2], [0.8, 1.1], [-3.0, 3.0, 10.0, 20.0], [30, 20]
        )
        assert -5 <= angle <= 5 and abs(tx) <= 3 and abs(ty) <= 4 and 0.8 <= scale <= 1.1
        assert -3 <= sx <= 3 and 10 <= sy <= 20


def test_color_jitter_params():
    jitter = T.ColorJitter(brightness=0.5, hue=0.1)
    assert jitter.brightness == (0.5, 1.5) and jitter.contrast is None and jitter.hue == (-0.1, 0.1)
    for seed in SEEDS:
        ferrotorch.manual_seed(seed)
        order, b, c, s, h = T.ColorJitter.get_params(jitter.brightness, None, None, jitter.hue)
        assert sorted(order.tolist()) == [0, 1, 2, 3]
        assert 0.5 <= b <= 1.5 and c is None and s is None and -0.1 <= h <= 0.1
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.7)


def test_random_perspective_endpoints_move_inwards():
    for seed in SEEDS:
        ferrotorch.manual_seed(seed)
        start, end = T.RandomPerspective.get_params(30, 20, 0.5)
        assert start == [[0, 0], [29, 0], [29, 19], [0, 19]]
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = end
        assert 0 <= x0 <= 7 and 0 <= y0 <= 5 and 22 <= x1 <= 29 and 14 <= y2 <= 19 and 0 <= x3 <= 7


def test_random_erasing_box_inside_and_value(img):
    for seed in SEEDS:
        ferrotorch.manual_seed(seed)
        i, j, h, w, v = T.RandomErasing.get_params(img.float(), (0.02, 0.33), (0.3, 3.3), [1.0, 2.0, 3.0])
        assert i + h <= 20 and j + w <= 30
        assert v.numpy().ravel().tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda: T.RandomCrop(8, padding=2),
        lambda: T.RandomResizedCrop(9),
        lambda: T.RandomRotation(30),
        lambda: T.RandomAffine(20, (0.1, 0.1), (0.9, 1.1), 5),
        lambda: T.RandomPerspective(p=1.0),
        lambda: T.ColorJitter(0.3, 0.3, 0.3, 0.1),
        lambda: T.GaussianBlur(3),
        lambda: T.RandomErasing(1.0, value="random"),
        lambda: autoaugment.AutoAugment(),
        lambda: autoaugment.RandAugment(),
        lambda: autoaugment.TrivialAugmentWide(),
        lambda: autoaugment.AugMix(),
        lambda: T.ElasticTransform(20.0, 2.0),
    ],
)
def test_same_seed_same_output(make, rng):
    x = ferrotorch.from_numpy(rng.integers(0, 256, size=(3, 20, 30), dtype=np.uint8))
    if isinstance(make(), T.RandomErasing):
        x = x.float()
    outs = []
    for _ in range(2):
        ferrotorch.manual_seed(123)
        outs.append(make()(x).numpy())
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda: T.RandomCrop((8, 9)), (8, 9)),
        (lambda: T.RandomResizedCrop((6, 7)), (6, 7)),
        (lambda: T.RandomRotation(30), (20, 30)),
        (lambda: T.RandomAffine(30, scale=(0.5, 2.0)), (20, 30)),
        (lambda: T.RandomPerspective(p=1.0), (20, 30)),
        (lambda: T.ColorJitter(0.5, 0.5, 0.5, 0.5), (20, 30)),
        (lambda: T.RandomGrayscale(1.0), (20, 30)),
        (lambda: T.GaussianBlur(5), (20, 30)),
        (lambda: T.RandomHorizontalFlip(), (20, 30)),
        (lambda: T.RandomInvert(1.0), (20, 30)),
        (lambda: T.RandomPosterize(3, 1.0), (20, 30)),
        (lambda: T.RandomSolarize(100, 1.0), (20, 30)),
        (lambda: T.RandomAdjustSharpness(2.0, 1.0), (20, 30)),
        (lambda: T.RandomAutocontrast(1.0), (20, 30)),
        (lambda: T.RandomEqualize(1.0), (20, 30)),
        (lambda: autoaugment.AutoAugment(autoaugment.AutoAugmentPolicy.CIFAR10), (20, 30)),
        (lambda: autoaugment.RandAugment(4, 20), (20, 30)),
        (lambda: autoaugment.TrivialAugmentWide(), (20, 30)),
        (lambda: autoaugment.AugMix(severity=5), (20, 30)),
    ],
)
@pytest.mark.parametrize("kind", ["u8", "batch_u8", "pil"])
def test_output_type_shape_and_dtype(make, shape, kind, rng):
    base = rng.integers(0, 256, size=(2, 3, 20, 30), dtype=np.uint8)
    ferrotorch.manual_seed(0)
    if kind == "pil":
        out = make()(Image.fromarray(base[0].transpose(1, 2, 0)))
        assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (shape[1], shape[0])
        return
    x = ferrotorch.from_numpy(base[0] if kind == "u8" else base)
    out = make()(x)
    assert out.dtype == ferrotorch.uint8
    assert tuple(out.shape) == tuple(x.shape[:-2]) + shape


def test_random_ops_with_p_zero_and_one(img):
    for cls in (T.RandomHorizontalFlip, T.RandomVerticalFlip, T.RandomInvert, T.RandomAutocontrast, T.RandomEqualize):
        assert cls(p=0.0)(img) is img
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(img).numpy(), img.numpy()[..., ::-1])
    assert T.RandomApply([T.RandomInvert(1.0)], p=0.0)(img) is img


def test_random_order_and_choice_use_python_random(img):
    add_one = T.Lambda(lambda x: x + 1)
    double = T.Lambda(lambda x: x * 2)
    x = ferrotorch.tensor([1])
    random.seed(0)
    results = {T.RandomOrder([add_one, double])(x).item() for _ in range(20)}
    assert results == {3, 4}
    random.seed(0)
    assert T.RandomChoice([add_one, double], p=[0.0, 1.0])(x).item() == 2


def test_augmix_dirichlet_weights_are_a_distribution():
    ferrotorch.manual_seed(0)
    draws = autoaugment._sample_dirichlet(ferrotorch.tensor([[0.5, 1.0, 3.0]] * 400)).numpy()
    assert (draws > 0).all()
    np.testing.assert_allclose(draws.sum(-1), 1.0, rtol=1e-6)
    # Dirichlet means are alpha / sum(alpha).
    np.testing.assert_allclose(draws.mean(0), [0.5 / 4.5, 1 / 4.5, 3 / 4.5], atol=0.03)


def test_elastic_displacement_shape_and_scale():
    ferrotorch.manual_seed(0)
    d = T.ElasticTransform.get_params([5.0, 10.0], [0.0, 0.0], [8, 12])
    assert tuple(d.shape) == (1, 8, 12, 2)
    # Without blur, dx is uniform in [-1, 1] * alpha / width, dy in [-1, 1] * alpha / height.
    assert np.abs(d.numpy()[..., 0]).max() <= 5.0 / 12 and np.abs(d.numpy()[..., 1]).max() <= 10.0 / 8


def test_constructor_errors():
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.5, 1.5))
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive number"):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="Random erasing probability should be between 0 and 1"):
        T.RandomErasing(p=2)
    with pytest.raises(ValueError, match="The severity must be between"):
        autoaugment.AugMix(severity=11)
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        T.Lambda(3)
    with pytest.raises(ValueError, match="shear should be a sequence of length 2 or 4"):
        T.RandomAffine(0, shear=(1, 2, 3))
    assert math.isclose(T.RandomResizedCrop(3).ratio[1], 4 / 3)
