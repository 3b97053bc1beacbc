"""Writes utils_reference.npz: torchvision.utils outputs for tests/vision/test_utils.py.

The inputs are rebuilt in the test from the same NumPy seed (see `inputs`), so only outputs are stored.
Labels are left out: their glyphs depend on the Pillow build's default font. Run with torch + torchvision:
    /work/torchenv/bin/python tests/vision/data/make_utils.py
"""

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def inputs():
    """The inputs every case uses; the test calls this same function (it needs NumPy only)."""
    rng = np.random.default_rng(2026)
    return {
        "image": rng.integers(0, 256, (3, 24, 32), dtype=np.uint8),
        "boxes": np.array([[1, 2, 20, 15], [8, 5, 30, 22], [0, 0, 31, 23]], dtype=np.float32),
        "oriented": np.array([[4, 4, 24, 8, 20, 20, 2, 16], [30, 2, 31, 20, 10, 22, 12, 3]], dtype=np.float32),
        "masks": rng.random((3, 24, 32)) > 0.6,
        "keypoints": np.array([[[3, 4], [20, 10], [28, 20]], [[10, 18], [15, 3], [5, 12]]], dtype=np.float32),
        "visibility": np.array([[True, True, True], [True, False, True]]),
        "flow": rng.standard_normal((2, 2, 5, 6)).astype(np.float32),
    }


def main() -> None:
    import torch  # only the generator needs torch; the test imports `inputs` without it
    import torchvision.utils as tvu

    x = {k: torch.from_numpy(v) for k, v in inputs().items()}
    image, boxes = x["image"], x["boxes"]
    out = {
        "boxes_default": tvu.draw_bounding_boxes(image, boxes),
        "boxes_colors_width": tvu.draw_bounding_boxes(image, boxes, colors=["red", (0, 200, 100), "#0000ff"], width=3),
        "boxes_fill": tvu.draw_bounding_boxes(image, boxes, colors="yellow", fill=True),
        "boxes_gray": tvu.draw_bounding_boxes(image[:1], boxes[:2], colors=(250, 10, 10)),
        "boxes_oriented": tvu.draw_bounding_boxes(image, x["oriented"], colors=["red", "cyan"], width=2, fill=True),
        "masks_default": tvu.draw_segmentation_masks(image, x["masks"]),
        "masks_alpha_colors": tvu.draw_segmentation_masks(image, x["masks"], alpha=0.35, colors=["red", "green", (9, 99, 199)]),
        "keypoints": tvu.draw_keypoints(image, x["keypoints"], connectivity=[(0, 1), (1, 2)], colors="blue",
                                        radius=2, width=2, visibility=x["visibility"]),
        "flow": tvu.flow_to_image(x["flow"]),
        "flow_single": tvu.flow_to_image(x["flow"][1]),
    }
    np.savez_compressed(os.path.join(HERE, "utils_reference.npz"), **{k: v.numpy() for k, v in out.items()})


if __name__ == "__main__":
    main()
