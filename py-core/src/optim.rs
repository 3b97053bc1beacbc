//! Bindings of the fused multi-tensor optimizer updates (`core::optim`), as `_C._optim_<name>`.
//! Each takes, for one parameter group, lists of tensors (parameters, gradients, state buffers,
//! step counters) and the group's hyper-parameters, and updates them all in place.

use pyo3::prelude::*;

use ferrotorch_core::optim as core;
use ferrotorch_core::Tensor;

use crate::error::IntoPy;
use crate::join::tensor_list;
use crate::tensor::PyTensor;

fn list(obj: &Bound<'_, PyAny>, fname: &str) -> PyResult<Vec<Tensor>> {
    tensor_list(obj, fname)
}

fn opt_list(obj: Option<&Bound<'_, PyAny>>, fname: &str) -> PyResult<Option<Vec<Tensor>>> {
    obj.map(|o| list(o, fname)).transpose()
}

/// A group's learning rate: a number, or a one-element tensor (PyTorch's tensor `lr`). A CUDA
/// tensor with capturable steps (counters on the device) stays there for the kernels to read
/// at every launch, so a captured step follows its later values, and the number is unused
/// (NaN); otherwise its value is read here.
fn learning_rate(lr: &Bound<'_, PyAny>, steps: &[Tensor]) -> PyResult<(f64, Option<Tensor>)> {
    let Ok(t) = lr.cast::<PyTensor>() else { return lr.extract().map(|v| (v, None)) };
    let t = t.borrow().t.clone();
    if t.is_cuda() && steps.first().is_some_and(Tensor::is_cuda) {
        return Ok((f64::NAN, Some(t)));
    }
    Ok((t.item().py()?.to_f64(), None))
}

/// `torch.optim.SGD`'s update; `new_buffers[i]`: buffer `i` was just created and takes the gradient.
#[pyfunction]
#[pyo3(signature = (params, grads, momentum_buffers, new_buffers, *, lr, momentum, dampening, weight_decay, nesterov, maximize))]
#[allow(clippy::too_many_arguments)]
fn _optim_sgd(
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    momentum_buffers: Option<&Bound<'_, PyAny>>,
    new_buffers: Vec<bool>,
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    maximize: bool,
) -> PyResult<()> {
    let n = "_optim_sgd";
    let bufs = opt_list(momentum_buffers, n)?;
    let o = core::SgdOptions { lr, momentum, dampening, weight_decay, nesterov, maximize };
    core::sgd(&list(params, n)?, &list(grads, n)?, bufs.as_deref(), &new_buffers, &o).py()
}

/// `torch.optim.Adam`/`AdamW`'s update.
#[pyfunction]
#[pyo3(signature = (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay))]
#[allow(clippy::too_many_arguments)]
fn _optim_adam(
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    exp_avgs: &Bound<'_, PyAny>,
    exp_avg_sqs: &Bound<'_, PyAny>,
    max_exp_avg_sqs: Option<&Bound<'_, PyAny>>,
    steps: &Bound<'_, PyAny>,
    lr: &Bound<'_, PyAny>,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> PyResult<()> {
    let n = "_optim_adam";
    let maxes = opt_list(max_exp_avg_sqs, n)?;
    let (p, g, m, s, st) = (list(params, n)?, list(grads, n)?, list(exp_avgs, n)?, list(exp_avg_sqs, n)?, list(steps, n)?);
    let (lr, lr_on_device) = learning_rate(lr, &st)?;
    let o = core::AdamOptions { lr, lr_on_device, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay };
    core::adam(&p, &g, &m, &s, maxes.as_deref(), &st, &o).py()
}

/// `torch.optim.Adamax`'s update.
#[pyfunction]
#[pyo3(signature = (params, grads, exp_avgs, exp_infs, steps, *, lr, beta1, beta2, eps, weight_decay, maximize))]
#[allow(clippy::too_many_arguments)]
fn _optim_adamax(
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    exp_avgs: &Bound<'_, PyAny>,
    exp_infs: &Bound<'_, PyAny>,
    steps: &Bound<'_, PyAny>,
    lr: &Bound<'_, PyAny>,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    maximize: bool,
) -> PyResult<()> {
    let n = "_optim_adamax";
    let (p, g, m, u, st) = (list(params, n)?, list(grads, n)?, list(exp_avgs, n)?, list(exp_infs, n)?, list(steps, n)?);
    let (lr, lr_on_device) = learning_rate(lr, &st)?;
    let o = core::AdamaxOptions { lr, lr_on_device, beta1, beta2, eps, weight_decay, maximize };
    core::adamax(&p, &g, &m, &u, &st, &o).py()
}

/// `torch.optim.NAdam`'s update.
#[pyfunction]
#[pyo3(signature = (params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, *, lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize))]
#[allow(clippy::too_many_arguments)]
fn _optim_nadam(
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    exp_avgs: &Bound<'_, PyAny>,
    exp_avg_sqs: &Bound<'_, PyAny>,
    mu_products: &Bound<'_, PyAny>,
    steps: &Bound<'_, PyAny>,
    lr: &Bound<'_, PyAny>,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    momentum_decay: f64,
    decoupled_weight_decay: bool,
    maximize: bool,
) -> PyResult<()> {
    let n = "_optim_nadam";
    let (p, g, m, s, st) = (list(params, n)?, list(grads, n)?, list(exp_avgs, n)?, list(exp_avg_sqs, n)?, list(steps, n)?);
    let (lr, lr_on_device) = learning_rate(lr, &st)?;
    let o = core::NAdamOptions { lr, lr_on_device, beta1, beta2, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize };
    core::nadam(&p, &g, &m, &s, &list(mu_products, n)?, &st, &o).py()
}

/// `torch.optim.RAdam`'s update.
#[pyfunction]
#[pyo3(signature = (params, grads, exp_avgs, exp_avg_sqs, steps, *, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, maximize))]
#[allow(clippy::too_many_arguments)]
fn _optim_radam(
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    exp_avgs: &Bound<'_, PyAny>,
    exp_avg_sqs: &Bound<'_, PyAny>,
    steps: &Bound<'_, PyAny>,
    lr: &Bound<'_, PyAny>,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    decoupled_weight_decay: bool,
    maximize: bool,
) -> PyResult<()> {
    let n = "_optim_radam";
    let (p, g, m, s, st) = (list(params, n)?, list(grads, n)?, list(exp_avgs, n)?, list(exp_avg_sqs, n)?, list(steps, n)?);
    let (lr, lr_on_device) = learning_rate(lr, &st)?;
    let o = core::RAdamOptions { lr, lr_on_device, beta1, beta2, eps, weight_decay, decoupled_weight_decay, maximize };
    core::radam(&p, &g, &m, &s, &st, &o).py()
}

/// `torch.optim.RMSprop`'s update.
#[pyfunction]
#[pyo3(signature = (params, grads, square_avgs, grad_avgs, momentum_buffers, steps, *, lr, alpha, eps, weight_decay, momentum, centered, maximize))]
#[allow(clippy::too_many_arguments)]
fn _optim_rmsprop(
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    square_avgs: &Bound<'_, PyAny>,
    grad_avgs: Option<&Bound<'_, PyAny>>,
    momentum_buffers: Option<&Bound<'_, PyAny>>,
    steps: &Bound<'_, PyAny>,
    lr: &Bound<'_, PyAny>,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    maximize: bool,
) -> PyResult<()> {
    let n = "_optim_rmsprop";
    let (ga, bufs) = (opt_list(grad_avgs, n)?, opt_list(momentum_buffers, n)?);
    let (p, g, sq, st) = (list(params, n)?, list(grads, n)?, list(square_avgs, n)?, list(steps, n)?);
    let (lr, lr_on_device) = learning_rate(lr, &st)?;
    let o = core::RmspropOptions { lr, lr_on_device, alpha, eps, weight_decay, momentum, centered, maximize };
    core::rmsprop(&p, &g, &sq, ga.as_deref(), bufs.as_deref(), &st, &o).py()
}

/// `torch.optim.Adagrad`'s update.
#[pyfunction]
#[pyo3(signature = (params, grads, sums, steps, *, lr, lr_decay, weight_decay, eps, maximize))]
#[allow(clippy::too_many_arguments)]
fn _optim_adagrad(
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    sums: &Bound<'_, PyAny>,
    steps: &Bound<'_, PyAny>,
    lr: f64,
    lr_decay: f64,
    weight_decay: f64,
    eps: f64,
    maximize: bool,
) -> PyResult<()> {
    let n = "_optim_adagrad";
    let o = core::AdagradOptions { lr, lr_decay, weight_decay, eps, maximize };
    core::adagrad(&list(params, n)?, &list(grads, n)?, &list(sums, n)?, &list(steps, n)?, &o).py()
}

/// `torch.optim.Adadelta`'s update.
#[pyfunction]
#[pyo3(signature = (params, grads, square_avgs, acc_deltas, steps, *, lr, rho, eps, weight_decay, maximize))]
#[allow(clippy::too_many_arguments)]
fn _optim_adadelta(
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    square_avgs: &Bound<'_, PyAny>,
    acc_deltas: &Bound<'_, PyAny>,
    steps: &Bound<'_, PyAny>,
    lr: &Bound<'_, PyAny>,
    rho: f64,
    eps: f64,
    weight_decay: f64,
    maximize: bool,
) -> PyResult<()> {
    let n = "_optim_adadelta";
    let (p, g, sq, acc, st) = (list(params, n)?, list(grads, n)?, list(square_avgs, n)?, list(acc_deltas, n)?, list(steps, n)?);
    let (lr, lr_on_device) = learning_rate(lr, &st)?;
    let o = core::AdadeltaOptions { lr, lr_on_device, rho, eps, weight_decay, maximize };
    core::adadelta(&p, &g, &sq, &acc, &st, &o).py()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_optim_sgd, m)?)?;
    m.add_function(wrap_pyfunction!(_optim_adam, m)?)?;
    m.add_function(wrap_pyfunction!(_optim_adamax, m)?)?;
    m.add_function(wrap_pyfunction!(_optim_nadam, m)?)?;
    m.add_function(wrap_pyfunction!(_optim_radam, m)?)?;
    m.add_function(wrap_pyfunction!(_optim_rmsprop, m)?)?;
    m.add_function(wrap_pyfunction!(_optim_adagrad, m)?)?;
    m.add_function(wrap_pyfunction!(_optim_adadelta, m)?)?;
    Ok(())
}
