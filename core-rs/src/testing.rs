//! Helpers shared by the crate's unit tests.

use crate::dtype::DType;
use crate::tensor::Tensor;

/// The largest element-wise `|a - b|` of two tensors of one shape, in float64; NaN against NaN
/// counts as equal.
pub fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let v = |t: &Tensor| t.to_dtype(DType::F64).unwrap().contiguous().unwrap().to_vec::<f64>().unwrap();
    v(a).iter().zip(&v(b)).map(|(x, y)| if x.is_nan() && y.is_nan() { 0.0 } else { (x - y).abs() }).fold(0.0, f64::max)
}
