//! Bindings of the neural-network kernels, one family per file; they appear as `_C.<name>`
//! (so as `ferrotorch.<name>`, like `torch.conv2d`) and underlie `ferrotorch.nn.functional`.

use pyo3::prelude::*;

mod activation;
mod attention;
mod conv;
mod loss;
mod norm;
mod pool;
mod rnn;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    activation::register(m)?;
    attention::register(m)?;
    conv::register(m)?;
    loss::register(m)?;
    norm::register(m)?;
    pool::register(m)?;
    rnn::register(m)?;
    Ok(())
}
