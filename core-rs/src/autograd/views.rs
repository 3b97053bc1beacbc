//! Gradients of views. A view's gradient is scattered into zeros shaped like its input; views
//! whose elements overlap (`expand`, `unfold`, `as_strided`) scatter with accumulation, by the
//! linear index of each view element in its input.

use crate::autograd::record::record;
use crate::dtype::Scalar;
use crate::error::Result;
use crate::layout::Layout;
use crate::tensor::Tensor;

/// Records view op `f` of `input` (`f` is the public op; it runs here without recording).
pub fn view<F>(name: &'static str, input: &Tensor, f: F) -> Result<Tensor>
where
    F: Fn(&Tensor) -> Result<Tensor> + Send + Sync + Clone + 'static,
{
    let shape = input.shape().to_vec();
    let forward = f.clone();
    record(name, &[input], || forward(input), move |_| {
        move |gr: &crate::autograd::node::Grads| Ok(vec![Some(view_backward(gr.g(), &shape, &f)?)])
    })
}

/// The gradient of `input` (of `shape`) from the gradient `g` of its view `f(input)`.
pub fn view_backward<F>(g: &Tensor, shape: &[usize], f: &F) -> Result<Tensor>
where
    F: Fn(&Tensor) -> Result<Tensor> + Send + Sync + Clone + 'static,
{
    // The view of fresh zeros says whether elements overlap, and is where `g` goes if not.
    let zeros = Tensor::zeros_on(shape, g.dtype(), g.device())?;
    let region = crate::autograd::mode::no_grad(|| f(&zeros))?;
    if !is_non_overlapping(region.layout()) {
        let positions = crate::autograd::mode::no_grad(|| f(&Tensor::arange_i64(shape)?)?.contiguous()?.to_device(g.device()))?;
        return scatter_add_linear(g, &positions, shape);
    }
    record("ViewScatterBackward", &[g], move || {
        region.copy_from(g)?;
        Ok(zeros)
    }, {
        let f = f.clone();
        move |_| move |gr: &crate::autograd::node::Grads| Ok(vec![Some(f(gr.g())?)])
    })
}

/// Whether no two elements of `layout` share a memory location.
pub fn is_non_overlapping(layout: &Layout) -> bool {
    let mut dims: Vec<(usize, usize)> = layout.shape.iter().zip(&layout.strides).filter(|(&n, _)| n > 1).map(|(&n, &s)| (s, n)).collect();
    dims.sort();
    let mut extent = 1;
    for (stride, size) in dims {
        if stride < extent {
            return false;
        }
        extent = stride * (size - 1) + extent;
    }
    true
}

impl Tensor {
    /// `arange(numel).reshape(shape)` as int64: the linear index of each element.
    pub(crate) fn arange_i64(shape: &[usize]) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        Tensor::from_slice(&(0..n as i64).collect::<Vec<_>>(), shape)
    }
}

/// `src.flatten()[positions]`, shaped like `positions`.
pub fn gather_linear(src: &Tensor, positions: &Tensor) -> Result<Tensor> {
    let shape = src.shape().to_vec();
    record("TakeBackward0", &[src], || src.take(positions), |s| {
        s.keeps_state();
        let positions = positions.clone();
        move |gr: &crate::autograd::node::Grads| Ok(vec![Some(scatter_add_linear(gr.g(), &positions, &shape)?)])
    })
}

/// Zeros of `shape` with `g`'s elements added at the linear `positions` (the adjoint of
/// `gather_linear`).
pub fn scatter_add_linear(g: &Tensor, positions: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let out_shape = shape.to_vec();
    record("PutBackward0", &[g], || {
        let n: usize = out_shape.iter().product();
        let z = Tensor::zeros_on(&[n], g.dtype(), g.device())?;
        let flat_pos = positions.reshape(&[-1])?;
        let flat_g = g.contiguous()?.reshape(&[-1])?;
        z.index_add_(0, &flat_pos, &flat_g, Scalar::Int(1))?;
        z.reshape(&out_shape.iter().map(|&s| s as i64).collect::<Vec<_>>())
    }, |s| {
        s.keeps_state();
        let positions = positions.clone();
        move |gr: &crate::autograd::node::Grads| Ok(vec![Some(gather_linear(gr.g(), &positions)?)])
    })
}

/// For each element of `view` (a view of `base`'s storage), the linear index of the element of
/// `base` at the same memory location.
pub fn linear_index(base: &Tensor, view: &Tensor) -> Result<Tensor> {
    let mut inverse = vec![-1i64; base.storage().numel()];
    let mut k = 0i64;
    crate::cpu::iter::for_each_offset(base.layout(), |off| {
        inverse[off] = k;
        k += 1;
    });
    let mut out = Vec::with_capacity(view.numel());
    let mut outside = false;
    crate::cpu::iter::for_each_offset(view.layout(), |off| {
        let i = inverse.get(off).copied().unwrap_or(-1);
        outside |= i < 0;
        out.push(i);
    });
    if outside {
        crate::bail!(NotImplemented, "autograd: a view reaching memory outside its base is not supported");
    }
    Tensor::from_slice(&out, view.shape())
}

/// Records view op `f` of `input` whose gradient is `backward(g)` (reshapes, permutations,
/// expansions: cheaper than scattering).
pub fn view_with<F, B>(name: &'static str, input: &Tensor, f: F, backward: B) -> Result<Tensor>
where
    F: FnOnce(&Tensor) -> Result<Tensor>,
    B: Fn(&Tensor) -> Result<Tensor> + Send + Sync + 'static,
{
    record(name, &[input], || f(input), |_| move |gr: &crate::autograd::node::Grads| Ok(vec![Some(backward(gr.g())?)]))
}

/// Records `as_strided`, whose view may be any arrangement of the input's memory.
pub fn as_strided_view(input: &Tensor, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let out = crate::autograd::mode::no_grad(|| f(input))?;
    let positions = linear_index(input, &out)?;
    let shape = input.shape().to_vec();
    Ok(crate::autograd::record::attach("AsStridedBackward0".into(), &[input], vec![out], move |s| {
        s.keeps_state();
        move |gr: &crate::autograd::node::Grads| Ok(vec![Some(scatter_add_linear(gr.g(), &positions, &shape)?)])
    })
    .remove(0))
}
