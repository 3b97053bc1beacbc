"""Independent float64 NumPy implementations of the optimizers' documented algorithms.

Each ``<name>(p, g, state, **options)`` returns the new parameter and updates ``state`` (a
plain dict of NumPy arrays and numbers), one parameter at a time, written from the pseudo-code
in PyTorch's documentation rather than from its source.
"""

import numpy as np


def _grad(p, g, maximize, weight_decay, decoupled=False, lr=0.0):
    g = -g if maximize else g
    if weight_decay and not decoupled:
        g = g + weight_decay * p
    if weight_decay and decoupled:
        p = p * (1 - lr * weight_decay)
    return p, g


def _moments(state, p, g, beta1, beta2):
    state.setdefault("m", np.zeros_like(p))
    state.setdefault("v", np.zeros_like(p))
    state["m"] = beta1 * state["m"] + (1 - beta1) * g
    state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
    return state["m"], state["v"]


def _step(state):
    state["step"] = state.get("step", 0) + 1
    return state["step"]


def sgd(p, g, state, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
    p, g = _grad(p, g, maximize, weight_decay)
    if momentum:
        buf = g.copy() if "buf" not in state else momentum * state["buf"] + (1 - dampening) * g
        state["buf"] = buf
        g = g + momentum * buf if nesterov else buf
    return p - lr * g


def adam(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False,
         decoupled_weight_decay=False):
    t = _step(state)
    p, g = _grad(p, g, maximize, weight_decay, decoupled_weight_decay, lr)
    m, v = _moments(state, p, g, *betas)
    if amsgrad:
        state["vmax"] = np.maximum(state.get("vmax", np.zeros_like(p)), v)
        v = state["vmax"]
    m_hat = m / (1 - betas[0] ** t)
    v_hat = v / (1 - betas[1] ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def adamw(p, g, state, weight_decay=1e-2, **options):
    return adam(p, g, state, weight_decay=weight_decay, decoupled_weight_decay=True, **options)


def adamax(p, g, state, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False):
    t = _step(state)
    p, g = _grad(p, g, maximize, weight_decay)
    state["m"] = betas[0] * state.get("m", np.zeros_like(p)) + (1 - betas[0]) * g
    state["u"] = np.maximum(betas[1] * state.get("u", np.zeros_like(p)), np.abs(g) + eps)
    return p - lr / (1 - betas[0] ** t) * state["m"] / state["u"]


def nadam(p, g, state, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
          decoupled_weight_decay=False, maximize=False):
    t = _step(state)
    p, g = _grad(p, g, maximize, weight_decay, decoupled_weight_decay, lr)
    mu = betas[0] * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = betas[0] * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    # mu_product is a float32 tensor in PyTorch's state (its documented type), so it rounds there.
    state["mu_product"] = float(np.float32(state.get("mu_product", 1.0)) * np.float32(mu))
    m, v = _moments(state, p, g, *betas)
    v_hat = v / (1 - betas[1] ** t)
    denom = np.sqrt(v_hat) + eps
    m_hat = mu_next * m / (1 - state["mu_product"] * mu_next) + (1 - mu) * g / (1 - state["mu_product"])
    return p - lr * m_hat / denom


def radam(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
          maximize=False):
    t = _step(state)
    p, g = _grad(p, g, maximize, weight_decay, decoupled_weight_decay, lr)
    m, v = _moments(state, p, g, *betas)
    beta1, beta2 = betas
    m_hat = m / (1 - beta1**t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    if rho_t <= 5:
        return p - lr * m_hat
    adaptive = np.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)
    rect = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return p - lr * m_hat * adaptive * rect


def rmsprop(p, g, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
            maximize=False):
    p, g = _grad(p, g, maximize, weight_decay)
    state["v"] = alpha * state.get("v", np.zeros_like(p)) + (1 - alpha) * g * g
    v = state["v"]
    if centered:
        state["g_avg"] = alpha * state.get("g_avg", np.zeros_like(p)) + (1 - alpha) * g
        v = v - state["g_avg"] ** 2
    if momentum > 0:
        state["buf"] = momentum * state.get("buf", np.zeros_like(p)) + g / (np.sqrt(v) + eps)
        return p - lr * state["buf"]
    return p - lr * g / (np.sqrt(v) + eps)


def adagrad(p, g, state, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
            maximize=False):
    t = _step(state)
    p, g = _grad(p, g, maximize, weight_decay)
    clr = lr / (1 + (t - 1) * lr_decay)
    state["sum"] = state.get("sum", np.full_like(p, initial_accumulator_value)) + g * g
    return p - clr * g / (np.sqrt(state["sum"]) + eps)


def adadelta(p, g, state, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    p, g = _grad(p, g, maximize, weight_decay)
    state["v"] = rho * state.get("v", np.zeros_like(p)) + (1 - rho) * g * g
    u = state.get("u", np.zeros_like(p))
    delta = np.sqrt(u + eps) / np.sqrt(state["v"] + eps) * g
    state["u"] = rho * u + (1 - rho) * delta * delta
    return p - lr * delta
