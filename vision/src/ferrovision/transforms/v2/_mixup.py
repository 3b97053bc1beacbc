"""MixUp and CutMix: mix each image of a batch with the next one (rolled by one), and the labels alike."""

import math

import ferrotorch
from PIL import Image as PILImage
from ferrotorch.distributions import Beta
from ferrotorch.nn.functional import one_hot

from ... import tv_tensors
from ._misc import _parse_labels_getter
from ._pytree import tree_flatten, tree_unflatten
from ._transform import Transform
from ._utils import has_any, is_pure_tensor, query_size


class _BaseMixUpCutMix(Transform):
    """Shared by MixUp and CutMix: finds the labels (``labels_getter``), checks the batch, mixes labels."""

    def __init__(self, *, alpha: float = 1.0, num_classes=None, labels_getter="default") -> None:
        super().__init__()
        self.alpha = float(alpha)
        self._dist = Beta(ferrotorch.tensor([alpha]), ferrotorch.tensor([alpha]))
        self.num_classes = num_classes
        self._labels_getter = _parse_labels_getter(labels_getter)

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = tree_flatten(inputs)
        needs_transform_list = self._needs_transform_list(flat_inputs)
        if has_any(flat_inputs, PILImage.Image, tv_tensors.BoundingBoxes, tv_tensors.Mask, tv_tensors.KeyPoints):
            raise ValueError(
                f"{type(self).__name__}() does not support PIL images, bounding boxes, keypoints and masks."
            )
        labels = self._labels_getter(inputs)
        if not isinstance(labels, ferrotorch.Tensor):
            raise ValueError(f"The labels must be a tensor, but got {type(labels)} instead.")
        if labels.ndim not in (1, 2):
            raise ValueError(
                f"labels should be index based with shape (batch_size,) "
                f"or probability based with shape (batch_size, num_classes), "
                f"but got a tensor of shape {labels.shape} instead."
            )
        if labels.ndim == 2 and self.num_classes is not None and labels.shape[-1] != self.num_classes:
            raise ValueError(
                f"When passing 2D labels, "
                f"the number of elements in last dimension must match num_classes: "
                f"{labels.shape[-1]} != {self.num_classes}. "
                f"You can Leave num_classes to None."
            )
        if labels.ndim == 1 and self.num_classes is None:
            raise ValueError("num_classes must be passed if the labels are index-based (1D)")
        params = {
            "labels": labels,
            "batch_size": labels.shape[0],
            **self.make_params([inpt for inpt, needs in zip(flat_inputs, needs_transform_list) if needs]),
        }
        # The labels are a pure tensor the image heuristic may have skipped: transform them explicitly.
        needs_transform_list[next(idx for idx, inpt in enumerate(flat_inputs) if inpt is labels)] = True
        flat_outputs = [
            self.transform(inpt, params) if needs else inpt for inpt, needs in zip(flat_inputs, needs_transform_list)
        ]
        return tree_unflatten(flat_outputs, spec)

    def _check_image_or_video(self, inpt, *, batch_size: int):
        expected_num_dims = 5 if isinstance(inpt, tv_tensors.Video) else 4
        if inpt.ndim != expected_num_dims:
            raise ValueError(
                f"Expected a batched input with {expected_num_dims} dims, but got {inpt.ndim} dimensions instead."
            )
        if inpt.shape[0] != batch_size:
            raise ValueError(
                f"The batch size of the image or video does not match the batch size of the labels: "
                f"{inpt.shape[0]} != {batch_size}."
            )

    def _mixup_label(self, label, *, lam: float):
        if label.ndim == 1:
            label = one_hot(label, num_classes=self.num_classes)
        if not label.dtype.is_floating_point:
            label = label.float()
        return label.roll(1, 0).mul_(1.0 - lam).add_(label.mul(lam))

    def _mix(self, inpt, params, mix_fn):
        """Labels through `_mixup_label`; images and videos through `mix_fn(pure tensor)`; the rest as is."""
        if inpt is params["labels"]:
            return self._mixup_label(inpt, lam=params["lam"])
        if isinstance(inpt, (tv_tensors.Image, tv_tensors.Video)) or is_pure_tensor(inpt):
            self._check_image_or_video(inpt, batch_size=params["batch_size"])
            output = mix_fn(tv_tensors._tv_tensor._as_tensor(inpt))
            if isinstance(inpt, (tv_tensors.Image, tv_tensors.Video)):
                output = tv_tensors.wrap(output, like=inpt)
            return output
        return inpt


class MixUp(_BaseMixUpCutMix):
    """MixUp (Zhang et al., 2018): ``lam * x + (1 - lam) * x_rolled`` with lam ~ Beta(alpha, alpha); for
    batches (images ``[B, C, H, W]`` and labels ``[B]`` or ``[B, num_classes]``), typically after the
    DataLoader."""

    def make_params(self, flat_inputs):
        return dict(lam=float(self._dist.sample(())))

    def transform(self, inpt, params):
        lam = params["lam"]
        return self._mix(inpt, params, lambda x: x.roll(1, 0).mul_(1.0 - lam).add_(x.mul(lam)))


class CutMix(_BaseMixUpCutMix):
    """CutMix (Yun et al., 2019): paste a random box of the rolled batch (area fraction about 1 - lam,
    lam ~ Beta(alpha, alpha)); the labels mix by the exact pasted area."""

    def make_params(self, flat_inputs):
        lam = float(self._dist.sample(()))
        H, W = query_size(flat_inputs)
        r_x = ferrotorch.randint(W, size=(1,))
        r_y = ferrotorch.randint(H, size=(1,))
        r = 0.5 * math.sqrt(1.0 - lam)
        r_w_half, r_h_half = int(r * W), int(r * H)
        x1 = int(ferrotorch.clamp(r_x - r_w_half, min=0))
        y1 = int(ferrotorch.clamp(r_y - r_h_half, min=0))
        x2 = int(ferrotorch.clamp(r_x + r_w_half, max=W))
        y2 = int(ferrotorch.clamp(r_y + r_h_half, max=H))
        lam_adjusted = float(1.0 - (x2 - x1) * (y2 - y1) / (W * H))
        return dict(box=(x1, y1, x2, y2), lam=lam_adjusted)

    def transform(self, inpt, params):
        x1, y1, x2, y2 = params["box"]

        def paste(x):
            output = x.clone()
            output[..., y1:y2, x1:x2] = x.roll(1, 0)[..., y1:y2, x1:x2]
            return output

        return self._mix(inpt, params, paste)
