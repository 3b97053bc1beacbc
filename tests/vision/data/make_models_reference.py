"""Write the torchvision references that tests/vision/test_models.py checks (run with /work/torchenv):

- models_reference.json: per classification model, a hash of its ordered state_dict keys and shapes,
  its parameter count, the full key list of a few small models, and every weights enum entry
  (url, transforms arguments, meta other than the category list, which is hashed once);
- models_logits.npz: logits of resnet18, mobilenet_v3_small and squeezenet1_0 (num_classes=10) on fixed
  inputs, with weights made by synthetic_state.py from a seed (so no weights are stored).
"""

import hashlib
import importlib
import json
import os
import sys

import numpy as np
import torch
import torchvision
from torchvision.models._api import WeightsEnum

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthetic_state import synthetic_state  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FAMILIES = ["alexnet", "vgg", "resnet", "densenet", "squeezenet", "shufflenetv2", "mobilenetv2", "mobilenetv3",
            "efficientnet", "regnet", "convnext", "vision_transformer", "swin_transformer"]
FULL_KEYS = ["squeezenet1_0", "mobilenet_v3_small", "shufflenet_v2_x0_5"]
LOGIT_MODELS = ["resnet18", "mobilenet_v3_small", "squeezenet1_0"]


def keys_hash(keys_shapes):
    """First 16 hex digits of the sha256 of "key:d0,d1,..." lines (shared with the test)."""
    text = "\n".join(f"{k}:{','.join(str(d) for d in s)}" for k, s in keys_shapes)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def keys_shapes(model):
    return [(k, list(v.shape)) for k, v in model.state_dict().items()]


def enum_entries(module):
    out = {}
    for enum in vars(module).values():
        if not (isinstance(enum, type) and issubclass(enum, WeightsEnum) and enum.__module__ == module.__name__):
            continue
        entries = {}
        for name, member in enum.__members__.items():
            if member.name != name:
                entries[name] = {"alias_of": member.name}
                continue
            keywords = {k: (v.name if hasattr(v, "name") else v) for k, v in member.transforms.keywords.items()}
            meta = {k: v for k, v in member.meta.items() if k != "categories"}
            categories = member.meta.get("categories")
            meta["categories_sha"] = None if categories is None else hashlib.sha256(
                "\n".join(categories).encode()).hexdigest()[:16]
            entries[name] = {"url": member.url, "transforms": keywords, "meta": meta}
        out[enum.__name__] = entries
    return out


def main():
    torch.manual_seed(0)
    models, weights = {}, {}
    for family in FAMILIES:
        module = importlib.import_module("torchvision.models." + family)
        weights.update(enum_entries(module))
        for name in torchvision.models.list_models(module=torchvision.models):
            builder = torchvision.models.get_model_builder(name)
            if builder.__module__ != module.__name__:
                continue
            model = builder()
            ks = keys_shapes(model)
            models[name] = {"keys_sha": keys_hash(ks), "num_params": sum(p.numel() for p in model.parameters()),
                            "num_state": len(ks)}
            if name in FULL_KEYS:
                models[name]["keys"] = ks
            print(name, models[name]["num_params"], flush=True)
    with open(os.path.join(HERE, "models_reference.json"), "w") as f:
        json.dump({"models": models, "weights": weights, "torchvision": torchvision.__version__}, f)

    inputs = np.random.default_rng(1).standard_normal((2, 3, 64, 64)).astype(np.float32)
    arrays = {"input": inputs}
    for name in LOGIT_MODELS:
        model = torchvision.models.get_model(name, num_classes=10)
        state = synthetic_state(keys_shapes(model), seed=0)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        # Train mode (batch statistics) only where no dropout makes the output random.
        for mode in ["eval", "train"] if name == "resnet18" else ["eval"]:
            model.train(mode == "train")
            with torch.no_grad():
                arrays[f"{name}_{mode}"] = model(torch.from_numpy(inputs)).numpy()
            model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})  # undo BN stat updates
    np.savez_compressed(os.path.join(HERE, "models_logits.npz"), **arrays)


if __name__ == "__main__":
    main()
