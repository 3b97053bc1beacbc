//! Random tensor methods: the in-place fills (`uniform_`, `normal_`, `random_`, ...) and
//! `bernoulli`/`multinomial`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::generator::{gen, PyGenerator};
use crate::error::IntoPy;
use crate::tensor::{index, wrap, PyTensor};

type Slf<'py> = Bound<'py, PyTensor>;

/// Runs an in-place fill on `slf` and returns it.
fn inplace<'py>(slf: &Slf<'py>, f: impl FnOnce(&ferrotorch_core::Tensor) -> ferrotorch_core::Result<()>) -> PyResult<Slf<'py>> {
    let t = slf.borrow().t.clone();
    f(&t).py()?;
    Ok(slf.clone())
}

/// An optional integer bound of `random_` (`None` stays `None`).
fn opt_index(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<i64>> {
    match obj {
        Some(o) if !o.is_none() => index(o).map(Some),
        _ => Ok(None),
    }
}

#[pymethods]
impl PyTensor {
    #[pyo3(signature = (from=0.0, to=1.0, *, generator=None))]
    fn uniform_<'py>(slf: &Slf<'py>, from: f64, to: f64, generator: Option<PyRef<'py, PyGenerator>>) -> PyResult<Slf<'py>> {
        let g = gen(generator);
        inplace(slf, |t| t.uniform_(from, to, &g))
    }

    #[pyo3(signature = (mean=0.0, std=1.0, *, generator=None))]
    fn normal_<'py>(slf: &Slf<'py>, mean: f64, std: f64, generator: Option<PyRef<'py, PyGenerator>>) -> PyResult<Slf<'py>> {
        let g = gen(generator);
        inplace(slf, |t| t.normal_(mean, std, &g))
    }

    /// `random_()`, `random_(to)`, `random_(from, to)` (`to=None`: up to the dtype's maximum).
    #[pyo3(signature = (*args, generator=None, **kwargs))]
    fn random_<'py>(
        slf: &Slf<'py>,
        args: &Bound<'py, PyTuple>,
        generator: Option<PyRef<'py, PyGenerator>>,
        kwargs: Option<&Bound<'py, pyo3::types::PyDict>>,
    ) -> PyResult<Slf<'py>> {
        let kw = |name: &str| kwargs.and_then(|k| k.get_item(name).ok().flatten());
        let (from, to) = match (args.len(), kw("from"), kw("to")) {
            (0, None, None) => {
                let g = gen(generator);
                return inplace(slf, |t| t.random_default_(&g));
            }
            (0, None, Some(to)) => (0, opt_index(Some(&to))?),
            (1, None, None) => match opt_index(Some(&args.get_item(0)?))? {
                Some(to) => (0, Some(to)),
                None => return Err(PyTypeError::new_err("random_(): argument 'to' must be int, not NoneType")),
            },
            (1, None, to) => (index(&args.get_item(0)?)?, opt_index(to.as_ref())?),
            (0, Some(from), to) => (index(&from)?, opt_index(to.as_ref())?),
            (2, None, None) => (index(&args.get_item(0)?)?, opt_index(Some(&args.get_item(1)?))?),
            _ => return Err(PyTypeError::new_err("random_() received an invalid combination of arguments")),
        };
        let g = gen(generator);
        inplace(slf, |t| t.random_(from, to, &g))
    }

    /// `bernoulli_(p)`: `p` a float or a tensor of probabilities.
    #[pyo3(signature = (p=None, *, generator=None))]
    fn bernoulli_<'py>(slf: &Slf<'py>, p: Option<&Bound<'py, PyAny>>, generator: Option<PyRef<'py, PyGenerator>>) -> PyResult<Slf<'py>> {
        let g = gen(generator);
        match p {
            Some(p) if p.cast::<PyTensor>().is_ok() => {
                let p = p.cast::<PyTensor>()?.borrow().t.clone();
                inplace(slf, |t| t.bernoulli_tensor_(&p, &g))
            }
            Some(p) if !p.is_none() => {
                let p: f64 = p.extract()?;
                inplace(slf, |t| t.bernoulli_scalar_(p, &g))
            }
            _ => inplace(slf, |t| t.bernoulli_scalar_(0.5, &g)),
        }
    }

    #[pyo3(signature = (lambd=1.0, *, generator=None))]
    fn exponential_<'py>(slf: &Slf<'py>, lambd: f64, generator: Option<PyRef<'py, PyGenerator>>) -> PyResult<Slf<'py>> {
        let g = gen(generator);
        inplace(slf, |t| t.exponential_(lambd, &g))
    }

    #[pyo3(signature = (p, *, generator=None))]
    fn geometric_<'py>(slf: &Slf<'py>, p: f64, generator: Option<PyRef<'py, PyGenerator>>) -> PyResult<Slf<'py>> {
        let g = gen(generator);
        inplace(slf, |t| t.geometric_(p, &g))
    }

    #[pyo3(signature = (mean=1.0, std=2.0, *, generator=None))]
    fn log_normal_<'py>(slf: &Slf<'py>, mean: f64, std: f64, generator: Option<PyRef<'py, PyGenerator>>) -> PyResult<Slf<'py>> {
        let g = gen(generator);
        inplace(slf, |t| t.log_normal_(mean, std, &g))
    }

    #[pyo3(signature = (median=0.0, sigma=1.0, *, generator=None))]
    fn cauchy_<'py>(slf: &Slf<'py>, median: f64, sigma: f64, generator: Option<PyRef<'py, PyGenerator>>) -> PyResult<Slf<'py>> {
        let g = gen(generator);
        inplace(slf, |t| t.cauchy_(median, sigma, &g))
    }

    /// `bernoulli()` draws with the probabilities in `self`; `bernoulli(p)` with probability `p`.
    #[pyo3(signature = (p=None, *, generator=None))]
    fn bernoulli(&self, p: Option<f64>, generator: Option<PyRef<'_, PyGenerator>>) -> PyResult<PyTensor> {
        let g = gen(generator);
        match p {
            Some(p) => wrap(self.t.bernoulli_p(p, &g)),
            None => wrap(self.t.bernoulli(&g)),
        }
    }

    #[pyo3(signature = (num_samples, replacement=false, *, generator=None))]
    fn multinomial(&self, num_samples: i64, replacement: bool, generator: Option<PyRef<'_, PyGenerator>>) -> PyResult<PyTensor> {
        wrap(self.t.multinomial(num_samples, replacement, &gen(generator)))
    }
}
