"""ferrotorch: PyTorch's Python API over a Rust core.

Tensors and their operations come from the extension module ``ferrotorch._C``; this package
adds what PyTorch also keeps in Python (printing, argument conveniences, submodules).
"""

from . import _C
from ._C import Tensor, device, dtype
from . import return_types  # noqa: F401  (named tuples of max(dim), sort(), qr(), ...)
from ._size import Size
from . import _tensor_str
from ._tensor_str import set_printoptions, get_printoptions
from . import _tensor_methods  # noqa: F401  (attaches the Python-side Tensor methods)
from ._functions import *  # noqa: F401,F403
from ._functions import __all__ as _function_names
from . import linalg  # noqa: F401  (the torch.linalg namespace)
from . import autograd  # noqa: F401
from .autograd.grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled, is_inference_mode_enabled
from .random import default_generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state  # noqa: E402

__version__ = "0.1.0"

# dtypes (bool, int, float shadow builtins here exactly as they do in torch).
bool = _C.bool
uint8, int8, int16, int32, int64 = _C.uint8, _C.int8, _C.int16, _C.int32, _C.int64
short, int, long = _C.short, _C.int, _C.long
float16, half, bfloat16 = _C.float16, _C.half, _C.bfloat16
float32, float, float64, double = _C.float32, _C.float, _C.float64, _C.double

get_default_dtype = _C.get_default_dtype
set_default_dtype = _C.set_default_dtype
promote_types = _C.promote_types
result_type = _C.result_type
can_cast = _C.can_cast
set_num_threads = _C.set_num_threads
get_num_threads = _C.get_num_threads


def is_tensor(obj):
    """Whether ``obj`` is a ferrotorch tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def numel(input):
    return input.numel()
from . import nn  # noqa: E402,F401  (modules, parameters, functional, init)
from . import optim  # noqa: E402,F401
from . import utils  # noqa: E402,F401  (utils.data, utils.checkpoint, utils.hooks)
from . import distributions, amp, cpu, accelerator  # noqa: E402,F401
from . import cuda  # noqa: E402,F401  (ferrotorch.cuda: devices, library discovery)
from .amp import autocast  # noqa: E402,F401  (torch.autocast)
from .serialization import *  # noqa: E402,F401,F403  (save, load)
from ._compile import compile  # noqa: E402,F401  (torch.compile, a no-op; also ferrotorch.compiler)
from ._type_info import finfo, iinfo  # noqa: E402,F401
from ._determinism import *  # noqa: E402,F401,F403  (use_deterministic_algorithms, float32 matmul precision)
from ._legacy_types import *  # noqa: E402,F401,F403  (FloatTensor, ..., set_default_tensor_type, typename)
from ._composites import *  # noqa: E402,F401,F403  (diff, cross, cdist, cov, ...; also linalg.cross)
from . import backends, special  # noqa: E402,F401
from .special import i0, sinc, polygamma, multigammaln as mvlgamma  # noqa: E402,F401
from ._constants import pi, e, inf, nan, newaxis  # noqa: E402,F401
