"""The weights API of `torchvision.models`: a `Weights` record per checkpoint, one `WeightsEnum` per
builder, and the registry behind `get_model` / `list_models` / `get_model_weights` / `get_weight`."""

import fnmatch
import hashlib
import importlib
import os
from dataclasses import dataclass
from enum import Enum
from functools import partial
from inspect import signature
from typing import Any, Callable, get_args

from ._hub import load_state_dict_from_url

__all__ = ["WeightsEnum", "Weights", "get_model", "get_model_builder", "get_model_weights", "get_weight",
           "list_models", "register_model"]


@dataclass
class Weights:
    """One pretrained checkpoint.

    Args:
        url (str): where the checkpoint lives; its file name carries a sha256 prefix.
        transforms (Callable): builds the preprocessing the model expects (built lazily).
        meta (dict): categories, num_params, recipe, ``_metrics`` and other facts about the weights.
    """

    url: str
    transforms: Callable
    meta: dict[str, Any]

    def __eq__(self, other):
        if not isinstance(other, Weights):
            return NotImplemented
        if self.url != other.url or self.meta != other.meta:
            return False
        if isinstance(self.transforms, partial) and isinstance(other.transforms, partial):
            return (self.transforms.func == other.transforms.func and self.transforms.args == other.transforms.args
                    and self.transforms.keywords == other.transforms.keywords)
        return self.transforms == other.transforms


class WeightsEnum(Enum):
    """Base of each model's weights enum; members hold :class:`Weights` (``DEFAULT`` is an alias)."""

    @classmethod
    def verify(cls, obj):
        """Turn ``None``, a member, or a name (``"DEFAULT"``, ``"ResNet18_Weights.IMAGENET1K_V1"``) into a member."""
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(
                    f"Invalid Weight class provided; expected {cls.__name__} but received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        """Load the checkpoint from the hub cache (see :func:`load_state_dict_from_url`).

        Weights shipped inside the package (``url`` is a file in ``models/weights/``) are read in
        place, after checking the file against the full sha256 in ``meta["_sha256"]``.
        """
        if "_sha256" in self.meta and os.path.isfile(self.url):
            _check_sha256(self.url, self.meta["_sha256"])
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def _packaged_weights(file_name):
    """The path of a checkpoint shipped with ferrovision (in ``ferrovision/models/weights/``)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights", file_name)


def _check_sha256(path, expected):
    """Raise RuntimeError unless the sha256 of the file at ``path`` is ``expected``."""
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != expected:
        raise RuntimeError(f'invalid hash value for {path} (expected "{expected}", got "{digest}")')


def _load_weights(model, weights, progress):
    """Load ``weights`` (a verified member, or ``None`` for nothing) into ``model``, strictly."""
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


def get_weight(name):
    """The weights enum member named like ``"ResNet50_Weights.IMAGENET1K_V1"``."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    models = importlib.import_module(__name__.rsplit(".", 1)[0])
    weights_enum = models.__dict__.get(enum_name)
    if not (isinstance(weights_enum, type) and issubclass(weights_enum, WeightsEnum)):
        raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")
    return weights_enum[value_name]


def get_model_weights(name):
    """The weights enum of a builder, given the builder or its registered name."""
    fn = get_model_builder(name) if isinstance(name, str) else name
    return _get_enum_from_fn(fn)


def _get_enum_from_fn(fn):
    sig = signature(fn)
    if "weights" not in sig.parameters:
        raise ValueError("The method is missing the 'weights' argument.")
    ann = sig.parameters["weights"].annotation
    candidates = [ann] if isinstance(ann, type) else list(get_args(ann))
    for t in candidates:
        if isinstance(t, type) and issubclass(t, WeightsEnum):
            return t
    raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved. "
                     "Make sure the typing info is correct.")


BUILTIN_MODELS = {}


def register_model(name=None):
    """Decorator registering a builder under ``name`` (default: the function's name)."""
    def wrapper(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn
    return wrapper


def list_models(module=None, include=None, exclude=None):
    """Sorted names of registered models, optionally only those of ``module``, filtered by
    fnmatch patterns: the union of ``include`` matches, minus any ``exclude`` match."""
    all_models = {k for k, v in BUILTIN_MODELS.items()
                  if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        include = [include] if isinstance(include, str) else include
        models = set()
        for pattern in include:
            models |= set(fnmatch.filter(all_models, pattern))
    else:
        models = all_models
    if exclude:
        exclude = [exclude] if isinstance(exclude, str) else exclude
        for pattern in exclude:
            models -= set(fnmatch.filter(all_models, pattern))
    return sorted(models)


def get_model_builder(name):
    """The builder registered under ``name`` (case-insensitive)."""
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name, **config):
    """Build the model registered under ``name`` with ``config`` passed to its builder."""
    return get_model_builder(name)(**config)
