"""transforms.v2 classes: which inputs of a sample are transformed, nested structures, the type
conversions, the detection helpers, and argument errors."""

from collections import OrderedDict, namedtuple

import numpy as np
import pytest
from PIL import Image as PILImage

import ferrotorch
import ferrovision.transforms.v2 as T
from ferrovision import tv_tensors
from ferrovision.tv_tensors import BoundingBoxes, Image, Mask


@pytest.fixture
def image(rng):
    return Image(ferrotorch.from_numpy(rng.integers(0, 256, (3, 6, 8), dtype=np.uint8)))


def _boxes():
    return BoundingBoxes([[0.0, 0.0, 3.0, 2.0], [4.0, 1.0, 8.0, 6.0]], format="XYXY", canvas_size=(6, 8))


def test_nested_structures_are_rebuilt(image):
    Pair = namedtuple("Pair", "image target")
    sample = Pair(image, OrderedDict(boxes=_boxes(), extra=[Mask(ferrotorch.zeros(6, 8)), "text", 3]))
    out = T.RandomHorizontalFlip(p=1.0)(sample)
    assert type(out) is Pair and type(out.target) is OrderedDict and list(out.target) == ["boxes", "extra"]
    assert out.target["extra"][1:] == ["text", 3]
    np.testing.assert_array_equal(out.image.numpy(), image.numpy()[..., ::-1])
    np.testing.assert_array_equal(out.target["boxes"].numpy(), [[5.0, 0.0, 8.0, 2.0], [0.0, 1.0, 4.0, 6.0]])
    # Several positional inputs come back as a tuple.
    flipped_image, flipped_boxes = T.RandomHorizontalFlip(p=1.0)(image, _boxes())
    assert type(flipped_image) is Image and type(flipped_boxes) is BoundingBoxes


def test_only_the_first_pure_tensor_counts_as_the_image(rng):
    data = ferrotorch.from_numpy(rng.random((3, 6, 8)))
    labels = ferrotorch.tensor([[1.0, 2.0], [3.0, 4.0]])
    out_image, out_labels = T.RandomVerticalFlip(p=1.0)(data, labels)
    np.testing.assert_array_equal(out_image.numpy(), data.numpy()[:, ::-1])
    assert out_labels is labels
    # With an Image (or PIL image) in the sample, pure tensors all pass through.
    image = Image(data)
    _, passed = T.RandomVerticalFlip(p=1.0)(image, data)
    assert passed is data


def test_one_draw_per_call_for_every_input(image):
    ferrotorch.manual_seed(3)
    out_image, out_boxes, out_mask = T.RandomResizedCrop(5)(image, _boxes(), Mask(ferrotorch.ones(6, 8)))
    assert tuple(out_image.shape[-2:]) == (5, 5) and out_boxes.canvas_size == (5, 5) and tuple(out_mask.shape) == (5, 5)
    ferrotorch.manual_seed(3)
    again = T.RandomResizedCrop(5)(image, _boxes(), Mask(ferrotorch.ones(6, 8)))
    np.testing.assert_array_equal(again[1].numpy(), out_boxes.numpy())
    np.testing.assert_array_equal(again[0].numpy(), out_image.numpy())


def test_sample_sizes_must_agree(image):
    with pytest.raises(ValueError, match=r"Found multiple HxW dimensions in the sample: '\(5, 5\)', '\(6, 8\)'"):
        T.RandomCrop(2)(image, Mask(ferrotorch.zeros(5, 5)))
    with pytest.raises(TypeError, match="No image, video, mask, bounding box of keypoint was found in the sample"):
        T.RandomCrop(2)({"text": "no tensors"})


def test_pil_images_go_through_the_pil_kernels(image):
    pil = PILImage.fromarray(np.ascontiguousarray(image.numpy().transpose(1, 2, 0)))
    out_pil, out_boxes = T.Resize((3, 4))(pil, _boxes())
    assert isinstance(out_pil, PILImage.Image) and out_pil.size == (4, 3) and out_boxes.canvas_size == (3, 4)
    with pytest.raises(TypeError, match=r"Normalize\(\) does not support PIL images."):
        T.Normalize([0.5], [0.5])(pil)


def test_type_conversions(image, rng):
    array = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    for inpt in (array, PILImage.fromarray(array), ferrotorch.from_numpy(array.transpose(2, 0, 1).copy())):
        out = T.ToImage()(inpt)
        assert type(out) is Image
        np.testing.assert_array_equal(out.numpy(), array.transpose(2, 0, 1))
    pil = T.ToPILImage()(image)
    np.testing.assert_array_equal(np.asarray(pil), image.numpy().transpose(1, 2, 0))
    assert type(T.PILToTensor()(pil)) is ferrotorch.Tensor
    pure = T.ToPureTensor()({"image": image, "boxes": _boxes()})
    assert all(type(v) is ferrotorch.Tensor for v in pure.values())


def test_to_dtype_per_type(image):
    mask = Mask(ferrotorch.ones(6, 8, dtype=ferrotorch.uint8))
    out_image, out_mask, out_boxes = T.ToDtype(ferrotorch.float32, scale=True)(image, mask, _boxes())
    np.testing.assert_allclose(out_image.numpy(), image.numpy() / np.float32(255), rtol=1e-6)
    assert out_mask is mask and out_boxes.dtype == ferrotorch.float32  # a single dtype converts images only
    out_image, out_mask = T.ToDtype({Image: ferrotorch.float64, Mask: ferrotorch.int64, "others": None})(image, mask)
    assert (out_image.dtype, out_mask.dtype, type(out_mask)) == (ferrotorch.float64, ferrotorch.int64, Mask)
    with pytest.raises(ValueError, match="No dtype was specified for type"):
        T.ToDtype({Mask: ferrotorch.int64})(image, mask)
    with pytest.raises(ValueError, match="dtype must be a dict or a torch.dtype"):
        T.ToDtype("float32")


def test_sanitize_removes_boxes_labels_and_masks():
    boxes = BoundingBoxes([[0, 0, 4, 4], [1, 1, 1.5, 5], [2, 2, 6, 6]], format="XYXY", canvas_size=(8, 8))
    masks = Mask(ferrotorch.arange(3).reshape(3, 1, 1).expand(3, 8, 8).contiguous())
    target = {"boxes": boxes, "masks": masks, "labels": ferrotorch.tensor([7, 8, 9]), "other": ferrotorch.zeros(3)}
    out = T.SanitizeBoundingBoxes()(target)
    np.testing.assert_array_equal(out["labels"].numpy(), [7, 9])
    np.testing.assert_array_equal(out["masks"].numpy()[:, 0, 0], [0, 2])
    assert tuple(out["boxes"].shape) == (2, 4) and tuple(out["other"].shape) == (3,)
    with pytest.raises(ValueError, match="Number of boxes"):
        T.SanitizeBoundingBoxes()({"boxes": boxes, "labels": ferrotorch.tensor([1])})
    with pytest.raises(ValueError, match="Could not infer where the labels are in the sample"):
        T.SanitizeBoundingBoxes()({"boxes": boxes})
    assert tuple(T.SanitizeBoundingBoxes(labels_getter=None)({"boxes": boxes})["boxes"].shape) == (2, 4)


def test_iou_crop_needs_boxes_and_zeroes_the_boxes_it_drops(image):
    with pytest.raises(TypeError, match="requires input sample to contain tensor or PIL images and bounding boxes"):
        T.RandomIoUCrop()(image)
    for seed in range(5):
        ferrotorch.manual_seed(seed)
        out_image, out_boxes = T.RandomIoUCrop()(image, _boxes())
        assert out_boxes.canvas_size == tuple(out_image.shape[-2:])
        # Every box is either inside the crop (clamped) or all zero.
        b = out_boxes.numpy()
        height, width = out_boxes.canvas_size
        assert np.all(b >= 0) and np.all(b[:, [0, 2]] <= width) and np.all(b[:, [1, 3]] <= height)


def test_containers_and_lambda(image):
    double = T.Lambda(lambda x: x * 2, Image)
    assert repr(double) == "Lambda(<lambda>, types=['Image'])"
    out_image, out_boxes = T.Compose([double, T.RandomApply([double], p=1.0)])(Image(image.float()), _boxes())
    # The first Lambda returns a pure tensor (x * 2 unwraps the Image), which the second one, for Images
    # only, leaves alone: as in torchvision.
    np.testing.assert_array_equal(out_image.numpy(), image.numpy() * 2.0)
    assert type(out_boxes) is BoundingBoxes
    with pytest.raises(ValueError, match="Pass at least one transform"):
        T.Compose([])
    with pytest.raises(TypeError, match="Argument transforms should be a sequence of callables"):
        T.RandomOrder(double)
    with pytest.raises(ValueError, match="Length of p doesn't match the number of transforms: 1 != 2"):
        T.RandomChoice([double, double], p=[1.0])
    with pytest.raises(ValueError, match=r"`p` should be a floating point value in the interval \[0.0, 1.0\]."):
        T.RandomHorizontalFlip(p=1.5)


def test_argument_errors():
    with pytest.raises(ValueError, match="size can be an integer, a sequence of one or two integers, or None"):
        T.Resize([1, 2, 3])
    with pytest.raises(ValueError, match="max_size must be an integer when size is None"):
        T.Resize(None)
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element of tuple or list"):
        T.Pad([1, 2, 3])
    with pytest.raises(ValueError, match="Invalid side range provided"):
        T.RandomZoomOut(side_range=(0.5, 2.0))
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive number."):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="Argument distortion_scale value should be between 0 and 1"):
        T.RandomPerspective(1.5)
    with pytest.raises(ValueError, match="clamping_mode must be soft, hard or None"):
        T.SetClampingMode("auto")
    with pytest.raises(ValueError, match=r"Required crop size \(10, 10\) is larger than input image size \(6, 8\)"):
        T.RandomCrop(10)(Image(ferrotorch.zeros(3, 6, 8)))


def test_transforms_pass_through_what_they_do_not_know(image):
    keypoints = tv_tensors.KeyPoints([[1.0, 1.0]], canvas_size=(6, 8))
    out = T.ColorJitter(brightness=0.5)(image, _boxes(), keypoints, "label")
    assert type(out[1]) is BoundingBoxes and out[2] is keypoints and out[3] == "label"


def test_geometric_transforms_move_keypoints(image):
    keypoints = tv_tensors.KeyPoints([[1.0, 1.0]], canvas_size=(6, 8))
    _, flipped = T.RandomHorizontalFlip(p=1.0)(image, keypoints)
    assert type(flipped) is tv_tensors.KeyPoints and flipped.tolist() == [[6.0, 1.0]]  # x -> width - 1 - x
