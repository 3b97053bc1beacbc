"""Sigmoid focal loss (Lin et al., RetinaNet, https://arxiv.org/abs/1708.02002)."""

import ferrotorch as ft
import ferrotorch.nn.functional as F

from ._utils import _reduce_loss


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    """Binary cross-entropy on logits ``inputs`` scaled by ``(1 - p_t) ** gamma`` (down-weighting
    easy examples) and by ``alpha`` for positives / ``1 - alpha`` for negatives (``alpha=-1``:
    no weighting). ``targets`` has the shape of ``inputs`` with 0/1 labels.
    ``reduction``: 'none' | 'mean' | 'sum'."""
    if not (0 <= alpha <= 1) and alpha != -1:
        raise ValueError(f"Invalid alpha value: {alpha}. alpha must be in the range [0,1] or -1 for ignore.")
    p = ft.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return _reduce_loss(loss, reduction, empty_mean_is_zero=False)
