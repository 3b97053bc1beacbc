"""ferrovision.tv_tensors: construction, metadata, and what tensor operations return."""

import copy
import pickle

import numpy as np
import pytest
from PIL import Image as PILImage

import ferrotorch
from ferrovision import tv_tensors
from ferrovision.tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, KeyPoints, Mask, Video


def _boxes(**kwargs):
    return BoundingBoxes([[1.0, 2.0, 5.0, 7.0], [0.0, 0.0, 3.0, 3.0]], format="XYWH", canvas_size=(10, 12), **kwargs)


def test_image_shares_storage_and_adds_a_channel_dimension():
    data = ferrotorch.rand(5, 6)
    image = Image(data)
    assert type(image) is Image and tuple(image.shape) == (1, 5, 6)
    data[0, 0] = 7.0
    assert image[0, 0, 0].item() == 7.0


def test_image_from_pil_is_chw_of_the_pixels(rng):
    pixels = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    image = Image(PILImage.fromarray(pixels))
    np.testing.assert_array_equal(image.numpy(), pixels.transpose(2, 0, 1))


def test_constructor_arguments():
    image = Image(np.zeros((3, 2, 2)), dtype=ferrotorch.float32, requires_grad=True)
    assert image.dtype == ferrotorch.float32 and image.requires_grad
    assert Mask(ferrotorch.zeros(2, 2, requires_grad=True)).requires_grad  # taken from the data
    with pytest.raises(ValueError, match="Tensor must be 2D or higher, got 1D tensor."):
        Image(ferrotorch.zeros(3))
    with pytest.raises(ValueError, match="Tensor must be 4D or higher, got 3D tensor."):
        Video(ferrotorch.zeros(3, 2, 2))


def test_bounding_boxes_metadata_and_checks():
    boxes = BoundingBoxes([1, 2, 3, 4], format="cxcywh", canvas_size=(5, 6))
    assert tuple(boxes.shape) == (1, 4) and boxes.dtype == ferrotorch.int64
    assert boxes.format is BoundingBoxFormat.CXCYWH and boxes.canvas_size == (5, 6) and boxes.clamping_mode == "soft"
    with pytest.raises(ValueError, match="Expected a 1D or 2D tensor, got 3D"):
        BoundingBoxes(ferrotorch.zeros(1, 1, 4), format="XYXY", canvas_size=(5, 6))
    with pytest.raises(ValueError, match="clamping_mode must be None, hard or soft, got wrong."):
        BoundingBoxes([1, 2, 3, 4], format="XYXY", canvas_size=(5, 6), clamping_mode="wrong")
    with pytest.raises(ValueError, match="Rotated bounding boxes should be floating point tensors"):
        BoundingBoxes([1, 2, 3, 4, 5], format="XYWHR", canvas_size=(5, 6))
    assert tv_tensors.is_rotated_bounding_format("CXCYWHR")
    assert not tv_tensors.is_rotated_bounding_format(BoundingBoxFormat.XYXY)


def test_keypoints_shape_check():
    assert tuple(KeyPoints([1.0, 2.0], canvas_size=(3, 3)).shape) == (1, 2)
    with pytest.raises(ValueError, match=r"Expected a tensor of shape \(..., 2\)"):
        KeyPoints(ferrotorch.zeros(2, 3), canvas_size=(3, 3))


def test_operations_return_pure_tensors():
    image = Image(ferrotorch.rand(3, 2, 2))
    results = (image + 1, image.flip(-1), image[0], image.sum(), image.float(), image.reshape(12), image.permute(1, 2, 0))
    for result in results:
        assert type(result) is ferrotorch.Tensor
    # In-place ops modify the image, which stays an Image, but return a pure tensor (as torchvision).
    out = image.mul_(2)
    assert type(out) is ferrotorch.Tensor and type(image) is Image and out.data_ptr() == image.data_ptr()


def test_clone_to_detach_keep_the_type_and_metadata():
    boxes = _boxes()
    for result in (boxes.clone(), boxes.to(ferrotorch.float64), boxes.detach(), boxes.requires_grad_(False)):
        assert type(result) is BoundingBoxes
        assert (result.format, result.canvas_size, result.clamping_mode) == (BoundingBoxFormat.XYWH, (10, 12), "soft")
    assert boxes.to(ferrotorch.float64).dtype == ferrotorch.float64


def test_set_return_type_keeps_tv_tensors():
    boxes = _boxes()
    with tv_tensors.set_return_type("TVTensor"):
        moved = boxes + 1
        assert type(moved) is BoundingBoxes and moved.canvas_size == (10, 12)
        assert [type(part) for part in boxes.unbind(0)] == [BoundingBoxes, BoundingBoxes]
    assert type(boxes + 1) is ferrotorch.Tensor
    tv_tensors.set_return_type("tvtensor")
    try:
        assert type(Mask(ferrotorch.zeros(2, 2)) * 2) is Mask
    finally:
        tv_tensors.set_return_type("Tensor")
    with pytest.raises(ValueError, match="return_type must be 'TVTensor' or 'Tensor', got pure"):
        tv_tensors.set_return_type("pure")


def test_wrap_copies_metadata_with_overrides():
    boxes = _boxes()
    wrapped = tv_tensors.wrap(ferrotorch.zeros(3, 4), like=boxes, canvas_size=(20, 30))
    assert type(wrapped) is BoundingBoxes
    assert wrapped.format is BoundingBoxFormat.XYWH and wrapped.canvas_size == (20, 30)
    assert type(tv_tensors.wrap(ferrotorch.zeros(2, 2), like=Mask(ferrotorch.ones(1, 1)))) is Mask


def test_deepcopy_and_pickle_keep_type_and_metadata():
    boxes = _boxes(clamping_mode=None)
    for copied in (copy.deepcopy(boxes), pickle.loads(pickle.dumps(boxes))):
        assert type(copied) is BoundingBoxes and copied.clamping_mode is None and copied.canvas_size == (10, 12)
        np.testing.assert_array_equal(copied.numpy(), boxes.numpy())
        assert copied.data_ptr() != boxes.data_ptr()


def test_gradients_flow_through_tv_tensors():
    x = ferrotorch.ones(1, 2, 2, requires_grad=True)
    image = Image(x * 3)
    (image * image).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((1, 2, 2), 18.0))


def test_reprs():
    assert repr(Image(ferrotorch.zeros(1, 1, 2))) == "Image([[[0., 0.]]], )"
    assert repr(Mask(ferrotorch.zeros(2, 1, dtype=ferrotorch.uint8))) == "Mask([[0],\n      [0]], dtype=torch.uint8)"
    assert repr(_boxes()) == (
        "BoundingBoxes([[1., 2., 5., 7.],\n               [0., 0., 3., 3.]], format=BoundingBoxFormat.XYWH, "
        "canvas_size=(10, 12), clamping_mode=soft)"
    )
