"""``ferrotorch.special`` (``torch.special``): special functions.

Functions the core has (``erf``, ``lgamma``, ``digamma``, ...) are re-exported under their
SciPy-style names; the rest are differentiable composites of core ops, evaluated in float64 and
returned in the input's floating dtype (integer inputs give the default dtype):

- Bessel ``i0``/``i1`` (and the exponentially scaled ``i0e``/``i1e``): the power series below
  ``|x| = 20``, the asymptotic expansion above it;
- Hurwitz ``zeta`` (and ``polygamma`` through it): Euler–Maclaurin summation, as Cephes does;
- normal distribution ``ndtr``, ``log_ndtr`` (an asymptotic series in the far lower tail) and
  ``ndtri`` (Newton's method on ``log_ndtr`` from Abramowitz–Stegun 26.2.23).
"""

import math
from fractions import Fraction

from . import _C
from . import _functions as _ops
from ._C import Tensor

__all__ = [
    "expit", "logit", "erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "xlogy", "xlog1py", "gammaln",
    "digamma", "psi", "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e", "ndtr", "ndtri", "log_ndtr",
    "sinc", "round", "softmax", "log_softmax", "logsumexp", "entr", "zeta",
]

expit = _ops.sigmoid
logit = _ops.logit
erf = _ops.erf
erfc = _ops.erfc
erfinv = _ops.erfinv
exp2 = _ops.exp2
expm1 = _ops.expm1
log1p = _ops.log1p
xlogy = _ops.xlogy
gammaln = _ops.lgamma
digamma = _ops.digamma
psi = _ops.digamma
round = _ops.round
logsumexp = _ops.logsumexp


def softmax(input, dim, *, dtype=None):
    """Softmax along ``dim``, computed in ``dtype`` when given."""
    return _ops.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax along ``dim``, computed in ``dtype`` when given."""
    return _ops.log_softmax(input, dim, dtype=dtype)


# --- helpers ---------------------------------------------------------------------------------

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _as_tensor(value, like=None):
    if isinstance(value, Tensor):
        return value
    return _C.tensor(value, dtype=like.dtype if like is not None and like.is_floating_point() else _C.get_default_dtype())


def _result_dtype(*args):
    """The floating dtype of a special function's result: PyTorch's promotion of the arguments
    (numbers and 0-d tensors count less), integers promoted to the default dtype."""
    dtype = args[0].dtype if len(args) == 1 else _C.result_type(*args)
    return dtype if dtype in (_C.float16, _C.bfloat16, _C.float32, _C.float64) else _C.get_default_dtype()


def _in_float64(function):
    """Runs ``function`` on float64 copies of its tensor arguments and casts the result back to
    the arguments' result dtype (float64 keeps the series and iterations accurate)."""

    def wrapper(*args):
        dtype = _result_dtype(*args)
        return function(*(_as_tensor(a).to(_C.float64) for a in args)).to(dtype)

    wrapper.__name__ = wrapper.__qualname__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


def _polynomial(coefficients, y):
    """``sum(c[k] * y**k)`` by Horner's rule."""
    result = _C.full_like(y, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        result = result * y + c
    return result


def _full(like, value):
    return _C.full_like(like, value)


def _only_where(condition, x, fill):
    """``x`` where ``condition`` holds, else ``fill``: the input of a branch that is evaluated
    everywhere but used only where ``condition`` holds. Unlike a clamp it stays finite outside
    and passes the whole gradient inside, boundary included."""
    return _C.where(condition, x, _full(x, fill))


# --- modified Bessel functions of the first kind ---------------------------------------------

# Below this |x| the power series converges fast; above it the asymptotic expansion is exact to
# float64 rounding (its smallest term there is ~1e-17).
_BESSEL_SWITCH = 20.0
_SERIES_TERMS = 36
_ASYMPTOTIC_TERMS = 28


def _series_coefficients(order):
    """``1 / (k! (k + order)!)``: I_order(x) = (x/2)**order * sum(c[k] * (x*x/4)**k)."""
    return [1.0 / (math.factorial(k) * math.factorial(k + order)) for k in range(_SERIES_TERMS)]


def _asymptotic_coefficients(order):
    """``(-1)**k a_k(order)`` with ``a_k = prod_{j<=k}(4 order**2 - (2j-1)**2) / (k! 8**k)``:
    exp(-x) I_order(x) ~ sum(c[k] / x**k) / sqrt(2 pi x)."""
    coefficients, a = [1.0], 1.0
    for k in range(1, _ASYMPTOTIC_TERMS):
        a *= (4 * order * order - (2 * k - 1) ** 2) / (8 * k)
        coefficients.append((-1) ** k * a)
    return coefficients


_SERIES = {order: _series_coefficients(order) for order in (0, 1)}
_ASYMPTOTIC = {order: _asymptotic_coefficients(order) for order in (0, 1)}


def _bessel_i(order, x, scaled):
    """I_order(x), or exp(-|x|) I_order(x) when ``scaled``; x float64, order 0 or 1."""
    use_series = x.abs() <= _BESSEL_SWITCH
    small = _only_where(use_series, x, 0.0)
    series = _polynomial(_SERIES[order], small * small / 4)
    if order == 1:
        series = series * small / 2
    if scaled:
        series = series * (-small.abs()).exp()
    large = _only_where(~use_series, x.abs(), _BESSEL_SWITCH)
    expansion = _polynomial(_ASYMPTOTIC[order], 1 / large) / (2 * math.pi * large).sqrt()
    if not scaled:
        expansion = expansion * large.exp()
    if order == 1:
        expansion = expansion * x.sign()
    return _C.where(use_series, series, expansion)


@_in_float64
def i0(input):
    """Modified Bessel function of the first kind, order 0."""
    return _bessel_i(0, input, scaled=False)


@_in_float64
def i0e(input):
    """Exponentially scaled modified Bessel function of order 0: ``exp(-|x|) * i0(x)``."""
    return _bessel_i(0, input, scaled=True)


@_in_float64
def i1(input):
    """Modified Bessel function of the first kind, order 1."""
    return _bessel_i(1, input, scaled=False)


@_in_float64
def i1e(input):
    """Exponentially scaled modified Bessel function of order 1: ``exp(-|x|) * i1(x)``."""
    return _bessel_i(1, input, scaled=True)



# --- Hurwitz zeta and polygamma --------------------------------------------------------------

def _bernoulli_numbers(count):
    """B_0 .. B_count as exact fractions (B_1 = -1/2 convention)."""
    b = []
    for m in range(count + 1):
        b.append(Fraction(1) if m == 0 else -sum(math.comb(m + 1, k) * b[k] for k in range(m)) / (m + 1))
    return b


_EULER_MACLAURIN_TERMS = 12
# B_2j / (2j)! for j = 1..12: the Euler–Maclaurin correction coefficients.
_EM = [float(b / math.factorial(2 * j)) for j, b in enumerate(_bernoulli_numbers(2 * _EULER_MACLAURIN_TERMS)[2::2], 1)]
_DIRECT_TERMS = 9  # Cephes sums until q + k > 9 before switching to the correction


@_in_float64
def zeta(input, other):
    """Hurwitz zeta ``sum_k (other + k) ** -input``: ``inf`` at ``input == 1`` and at non-positive
    integer ``other``, ``nan`` for ``input < 1``."""
    x, q = _C.broadcast_tensors(input, other)
    finite_q = q[q.isfinite()]
    shift = max(0, math.ceil(-finite_q.min().item())) if finite_q.numel() else 0
    n = _DIRECT_TERMS + shift  # every element reaches q + n > 9
    total = _C.zeros_like(q)
    for k in range(n):
        total = total + (q + k).pow(-x)
    a = q + n
    total = total + a.pow(-x) / 2 + a.pow(1 - x) / (x - 1)
    rising = x  # x (x + 1) ... (x + 2j - 2)
    for j, coefficient in enumerate(_EM, 1):
        total = total + coefficient * rising * a.pow(1 - x - 2 * j)
        rising = rising * (x + 2 * j - 1) * (x + 2 * j)
    pole = (x == 1) | ((q <= 0) & (q == q.floor()))
    total = _C.where(pole, _full(total, math.inf), total)
    undefined = (x < 1) | ((q == -math.inf) & ~x.isnan())
    return _C.where(undefined, _full(total, math.nan), total)



def polygamma(n, input):
    """The ``n``-th derivative of the digamma function: ``(-1)**(n+1) n! zeta(n + 1, input)``."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(input)
    return zeta(float(n + 1), input) * ((-1) ** (n + 1) * math.factorial(n))


def multigammaln(input, p):
    """Log of the multivariate gamma function of dimension ``p``:
    ``p (p - 1) / 4 log(pi) + sum_{j < p} lgamma(input - j / 2)``."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    offsets = _C.arange(p, dtype=_result_dtype(input)) / -2
    terms = (input.unsqueeze(-1) + offsets).lgamma()
    return terms.sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


# --- normal distribution ---------------------------------------------------------------------

def _normal_cdf(x):
    return (-x / math.sqrt(2)).erfc() / 2


@_in_float64
def ndtr(input):
    """Standard normal CDF: ``(1 + erf(x / sqrt(2))) / 2``, accurate in the lower tail."""
    return _normal_cdf(input)

# Below this x, log(ndtr(x)) uses the asymptotic series (erfc would underflow by x = -38).
_LOG_NDTR_TAIL = -20.0
_MILLS_TERMS = 12


def _log_normal_cdf(x):
    in_tail, in_upper = x < _LOG_NDTR_TAIL, x > 0
    middle = _normal_cdf(_only_where(~in_tail & ~in_upper, x, 0.0)).log()
    upper = (-_normal_cdf(-_only_where(in_upper, x, 1.0))).log1p()  # log(1 - ndtr(-x)): precise near 0
    tail = _only_where(in_tail, x, _LOG_NDTR_TAIL)
    # ndtr(x) ~ pdf(x) / -x * sum((-1)**k (2k-1)!! / x**(2k)) as x -> -inf
    mills = _polynomial([(-1) ** k * math.prod(range(1, 2 * k, 2)) for k in range(_MILLS_TERMS)], 1 / (tail * tail))
    lower = -tail * tail / 2 - (-tail).log() - _LOG_SQRT_2PI + mills.log()
    return _C.where(in_tail, lower, _C.where(in_upper, upper, middle))


@_in_float64
def log_ndtr(input):
    """Log of the standard normal CDF, accurate in both tails."""
    return _log_normal_cdf(input)

_NEWTON_STEPS = 4
# Cephes's split: erfinv is exact in the centre; the tails (p < exp(-2)) refine an initial guess.
_NDTRI_TAIL = math.exp(-2)


@_in_float64
def ndtri(input):
    """Inverse of the standard normal CDF: ``-inf`` at 0, ``inf`` at 1, ``nan`` outside ``[0, 1]``."""
    p = input
    in_centre = (p >= _NDTRI_TAIL) & (p <= 1 - _NDTRI_TAIL)
    central = math.sqrt(2) * (2 * _only_where(in_centre, p, 0.5) - 1).erfinv()
    # Tails: solve log(ndtr(x)) = log(r) in the lower half (r = min(p, 1 - p)) by Newton's method
    # from Abramowitz & Stegun 26.2.23 (error < 4.5e-4), then mirror.
    r = _C.where(p > 0.5, 1 - p, p)
    r = _only_where(~in_centre & (r > 0), r, _NDTRI_TAIL)
    log_r = r.log()
    t = (-2 * log_r).sqrt()
    x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t))
    for _ in range(_NEWTON_STEPS):
        log_cdf = _log_normal_cdf(x)
        log_pdf = -x * x / 2 - _LOG_SQRT_2PI
        x = x - (log_cdf - log_r) * (log_cdf - log_pdf).exp()
    tail = _C.where(p > 0.5, -x, x)
    x = _C.where(in_centre, central, tail)
    x = _C.where(p == 0, _full(x, -math.inf), _C.where(p == 1, _full(x, math.inf), x))
    return _C.where((p < 0) | (p > 1) | p.isnan(), _full(x, math.nan), x)


# --- elementary composites -------------------------------------------------------------------

def xlog1py(input, other):
    """``input * log1p(other)``, 0 where ``input == 0`` (unless ``other`` is NaN)."""
    input, other = _as_tensor(input, other), _as_tensor(other, input)
    product = input * other.log1p()
    zero = (input == 0) & ~other.isnan()
    return _C.where(zero, _C.zeros_like(product), product)


def sinc(input):
    """Normalized sinc ``sin(pi x) / (pi x)``, 1 at 0."""
    x = input if input.is_floating_point() else input.to(_C.get_default_dtype())
    at_zero = x == 0
    safe = _C.where(at_zero, _C.ones_like(x), x) * math.pi  # keeps 0/0 out of value and gradient
    return _C.where(at_zero, _C.ones_like(x), safe.sin() / safe)


def entr(input):
    """Elementwise entropy ``-x log x``: 0 at 0, ``-inf`` for negative x."""
    x = input if input.is_floating_point() else input.to(_C.get_default_dtype())
    positive = x > 0
    safe = _C.where(positive, x, _C.ones_like(x))
    result = _C.where(positive, -safe * safe.log(), _C.zeros_like(x))
    return _C.where(x < 0, _full(x, -math.inf), _C.where(x.isnan(), x, result))
