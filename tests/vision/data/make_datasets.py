"""Writes fakedata_reference.npz: torchvision's FakeData items, for tests/vision/test_datasets.py.

Run with the reference environment (torch + torchvision):
    /work/torchenv/bin/python tests/vision/data/make_datasets.py
"""

import json
import os

import numpy as np
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = {
    "rgb": dict(size=4, image_size=(3, 8, 8), num_classes=10, random_offset=0),
    "gray_offset": dict(size=3, image_size=(1, 5, 7), num_classes=3, random_offset=11),
}


def main() -> None:
    arrays = {"cases": np.array(json.dumps(CASES))}
    for name, kwargs in CASES.items():
        dataset = torchvision.datasets.FakeData(**kwargs)
        items = [dataset[i] for i in range(len(dataset))]
        arrays[f"{name}_images"] = np.stack([np.array(img) for img, _ in items])
        arrays[f"{name}_targets"] = np.array([target for _, target in items], dtype=np.int64)
    np.savez_compressed(os.path.join(HERE, "fakedata_reference.npz"), **arrays)


if __name__ == "__main__":
    main()
