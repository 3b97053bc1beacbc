//! Matrix products with PyTorch's semantics: `mm`, `bmm`, `matmul` (every broadcasting case),
//! `mv`, `dot`, `vdot`, `inner`, `outer`, `addmm`/`addmv`/`addr`/`addbmm`/`baddbmm`, `kron`.
//! Everything funnels into `product`, which hands strided views to `cpu::gemm`.

mod diag;
mod einsum;

pub use einsum::{einsum, tensordot};

use crate::cpu::gemm::{batched_gemm, BatchOffsets, MatPtr, Product};
use crate::dtype::{DType, Element, Scalar};
use crate::error::Result;
use crate::layout::{broadcast_shapes, Layout};
use crate::ops::binary::{BinaryOp, Operand};
use crate::tensor::Tensor;
use crate::autograd::formulas::matmul as formulas;
use crate::{bail, with_arith_dtype};

/// Matrix operands must share a dtype (no promotion) that is not bool.
pub(crate) fn check_mm_dtypes(a: &Tensor, b: &Tensor) -> Result<DType> {
    if a.dtype() != b.dtype() {
        bail!(
            Runtime,
            "expected m1 and m2 to have the same dtype, but got: {} != {}",
            a.dtype().cpp_name(),
            b.dtype().cpp_name()
        );
    }
    if a.dtype() == DType::Bool {
        bail!(Runtime, "\"addmm_impl_cpu_\" not implemented for 'Bool'");
    }
    Ok(a.dtype())
}

/// `alpha * a @ b + beta * bias` over broadcast batch dims. `a` is `(..., m, k)`, `b` is
/// `(..., k, n)` (sizes already checked), `bias` broadcasts to the `(..., m, n)` result.
/// Half types compute in f32, as PyTorch's CPU kernels accumulate.
pub(crate) fn product(a: &Tensor, b: &Tensor, bias: Option<(&Tensor, Scalar)>, alpha: Scalar) -> Result<Tensor> {
    let inputs: Vec<&Tensor> = [Some(a), Some(b), bias.map(|(t, _)| t)].into_iter().flatten().collect();
    if crate::autograd::needs_grad(&inputs) {
        return formulas::product("MatmulBackward0", a, b, bias, alpha, || product(a, b, bias, alpha));
    }
    let dtype = check_mm_dtypes(a, b)?;
    let compute = dtype.compute_type();
    let (na, nb) = (a.ndim(), b.ndim());
    let (m, k, n) = (a.shape()[na - 2], a.shape()[na - 1], b.shape()[nb - 1]);
    let batch = broadcast_shapes(&a.shape()[..na - 2], &b.shape()[..nb - 2])?;
    let mut out_shape = batch.clone();
    out_shape.extend([m, n]);
    let bias = match bias {
        Some((t, beta)) => {
            if t.dtype() != dtype {
                bail!(
                    Runtime,
                    "self and mat2 must have the same dtype, but got {} and {}",
                    crate::dtype::title(t.dtype()),
                    crate::dtype::title(dtype)
                );
            }
            t.layout().broadcast_to(&out_shape)?;
            // beta == 0 ignores the bias entirely, NaN included.
            (beta.to_f64() != 0.0).then_some((t, beta))
        }
        None => None,
    };
    if crate::device::common_device(&inputs)? != crate::Device::Cpu {
        return crate::cuda::blas::product(a, b, bias, alpha, &batch, (m, k, n));
    }
    let out = Tensor::uninit(&out_shape, compute)?;
    if let Some((t, _)) = bias {
        out.copy_from(t)?;
    }
    if out.numel() > 0 {
        let with_batch = |shape: &[usize]| {
            let mut s = batch.clone();
            s.extend_from_slice(shape);
            s
        };
        let la = a.layout().broadcast_to(&with_batch(&[m, k]))?;
        let lb = b.layout().broadcast_to(&with_batch(&[k, n]))?;
        let (a, b) = (a.to_dtype(compute)?, b.to_dtype(compute)?);
        let (la, lb) = if a.dtype() == dtype { (la, lb) } else { (rebase(&la, &a), rebase(&lb, &b)) };
        with_arith_dtype!(compute, T => unsafe {
            let p = Product {
                m, n, k,
                alpha: T::from_scalar(alpha),
                beta: bias.map_or(T::default(), |(_, beta)| T::from_scalar(beta)),
                accumulate: bias.is_some(),
            };
            run_batched::<T>(&p, &out, (&a, &la), (&b, &lb), &batch)
        })?;
    }
    out.to_dtype(dtype)
}

/// A converted copy is contiguous: its broadcast layout is recomputed from its own strides.
fn rebase(broadcast: &Layout, converted: &Tensor) -> Layout {
    converted
        .layout()
        .broadcast_to(&broadcast.shape)
        .expect("the converted copy has the original shape")
}

/// Runs the products of a batch. When `b` is the same matrix for every entry and `a`'s batch
/// rows are evenly spaced, the batch folds into one taller product (one big gemm).
unsafe fn run_batched<T: crate::cpu::gemm::GemmElement>(
    p: &Product<T>,
    out: &Tensor,
    (a, la): (&Tensor, &Layout),
    (b, lb): (&Tensor, &Layout),
    batch: &[usize],
) -> Result<()> {
    let nd = batch.len();
    let count: usize = batch.iter().product();
    let dst = MatPtr::new(out.data_ptr::<T>()?, p.n, 1);
    let lhs = MatPtr::new(a.data_ptr::<T>()?, la.strides[nd], la.strides[nd + 1]);
    let rhs = MatPtr::new(b.data_ptr::<T>()?, lb.strides[nd], lb.strides[nd + 1]);
    let b_shared = lb.strides[..nd].iter().zip(batch).all(|(&s, &len)| s == 0 || len == 1);
    if count > 1 && b_shared {
        let rows = Layout { shape: [&batch[..], &[p.m]].concat(), strides: la.strides[..=nd].to_vec(), offset: la.offset };
        if let Some(folded) = rows.view(&[count * p.m]) {
            let tall = Product { m: count * p.m, ..*p };
            let lhs = MatPtr::new(a.data_ptr::<T>()?, folded.strides[0], la.strides[nd + 1]);
            let offsets = BatchOffsets { dst: vec![0], lhs: vec![la.offset], rhs: vec![lb.offset] };
            batched_gemm(&tall, dst, lhs, rhs, &offsets);
            return Ok(());
        }
    }
    let mut offsets = BatchOffsets { dst: Vec::with_capacity(count), lhs: Vec::with_capacity(count), rhs: Vec::with_capacity(count) };
    for i in 0..count {
        let (mut rem, mut oa, mut ob) = (i, la.offset, lb.offset);
        for d in (0..nd).rev() {
            let idx = rem % batch[d];
            rem /= batch[d];
            oa += idx * la.strides[d];
            ob += idx * lb.strides[d];
        }
        offsets.dst.push(i * p.m * p.n);
        offsets.lhs.push(oa);
        offsets.rhs.push(ob);
    }
    batched_gemm(p, dst, lhs, rhs, &offsets);
    Ok(())
}

fn one() -> Scalar {
    Scalar::Int(1)
}

fn check_matrix(t: &Tensor, what: &str) -> Result<()> {
    if t.ndim() != 2 {
        bail!(Runtime, "{} must be a matrix", what);
    }
    Ok(())
}

fn check_mm_shapes(a: &Tensor, b: &Tensor) -> Result<()> {
    let (sa, sb) = (a.shape(), b.shape());
    if sa[1] != sb[0] {
        bail!(Runtime, "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})", sa[0], sa[1], sb[0], sb[1]);
    }
    Ok(())
}

fn check_bmm_shapes(a: &Tensor, b: &Tensor) -> Result<()> {
    if a.ndim() != 3 {
        bail!(Runtime, "batch1 must be a 3D tensor");
    }
    if b.ndim() != 3 {
        bail!(Runtime, "batch2 must be a 3D tensor");
    }
    let (sa, sb) = (a.shape(), b.shape());
    if sb[0] != sa[0] || sb[1] != sa[2] {
        bail!(
            Runtime,
            "Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: [{}, {}].",
            sa[0],
            sa[2],
            sb[0],
            sb[1]
        );
    }
    Ok(())
}

fn check_mv_shapes(bias: Option<&Tensor>, mat: &Tensor, vec: &Tensor) -> Result<()> {
    if mat.ndim() != 2 || vec.ndim() != 1 {
        bail!(
            Runtime,
            "vector + matrix @ vector expected, got {}, {}, {}",
            bias.map_or(1, |b| b.ndim()),
            mat.ndim(),
            vec.ndim()
        );
    }
    if mat.shape()[1] != vec.shape()[0] {
        let input = bias.map_or(mat.shape()[0], |b| b.numel());
        bail!(
            Runtime,
            "size mismatch, got input ({}), mat ({}x{}), vec ({})",
            input,
            mat.shape()[0],
            mat.shape()[1],
            vec.shape()[0]
        );
    }
    Ok(())
}

/// Checks the two operands of `dot`/`vdot`.
fn check_dot(a: &Tensor, b: &Tensor, name: &str) -> Result<()> {
    if a.ndim() != 1 || b.ndim() != 1 {
        bail!(Runtime, "1D tensors expected, but got {}D and {}D tensors", a.ndim(), b.ndim());
    }
    if a.dtype() != b.dtype() {
        bail!(
            Runtime,
            "{} : expected both vectors to have same dtype, but found {} and {}",
            name,
            crate::dtype::title(a.dtype()),
            crate::dtype::title(b.dtype())
        );
    }
    if a.dtype() == DType::Bool {
        bail!(Runtime, "\"{}\" not implemented for 'Bool'", name);
    }
    if a.numel() != b.numel() {
        bail!(
            Runtime,
            "inconsistent tensor size, expected tensor [{}] and src [{}] to have the same number of elements, but got {} and {} elements respectively",
            a.numel(),
            b.numel(),
            a.numel(),
            b.numel()
        );
    }
    Ok(())
}

impl Tensor {
    /// `mm(mat2)`: a `(n, m)` by `(m, p)` product.
    pub fn mm(&self, other: &Tensor) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("mm", [self, other], |t| t[0].mm(&t[1])) { return r; }
        if crate::autograd::needs_grad(&[self, other]) {
            return formulas::product("MmBackward0", self, other, None, one(), || self.mm(other));
        }
        check_matrix(self, "self")?;
        check_matrix(other, "mat2")?;
        check_mm_dtypes(self, other)?;
        check_mm_shapes(self, other)?;
        product(self, other, None, one())
    }

    /// `bmm(mat2)`: products of matching batches of matrices.
    pub fn bmm(&self, other: &Tensor) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("bmm", [self, other], |t| t[0].bmm(&t[1])) { return r; }
        if crate::autograd::needs_grad(&[self, other]) {
            return formulas::product("BmmBackward0", self, other, None, one(), || self.bmm(other));
        }
        check_bmm_shapes(self, other)?;
        product(self, other, None, one())
    }

    /// `mv(vec)`: matrix times vector.
    pub fn mv(&self, vec: &Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self, vec]) {
            return formulas::matrix_vector("MvBackward0", self, vec, None, one(), || self.mv(vec));
        }
        check_mv_shapes(None, self, vec)?;
        let r = product(self, &vec.unsqueeze(-1)?, None, one())?;
        r.squeeze(Some(&[-1]))
    }

    /// `dot(other)`: inner product of two 1-D tensors of one dtype.
    pub fn dot(&self, other: &Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self, other]) {
            return formulas::dot("DotBackward0", self, other, || self.dot(other));
        }
        check_dot(self, other, "dot")?;
        self.dot_unchecked(other)
    }

    /// `vdot(other)`: `dot` with the first argument conjugated (the same for real tensors).
    pub fn vdot(&self, other: &Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self, other]) {
            return formulas::dot("VdotBackward0", self, other, || self.vdot(other));
        }
        check_dot(self, other, "vdot")?;
        self.dot_unchecked(other)
    }

    fn dot_unchecked(&self, other: &Tensor) -> Result<Tensor> {
        let r = product(&self.unsqueeze(0)?, &other.unsqueeze(-1)?, None, one())?;
        r.reshape(&[])
    }

    /// `matmul(other)` / `@`, with PyTorch's rules for 1-D operands and batch broadcasting.
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("matmul", [self, other], |t| t[0].matmul(&t[1])) { return r; }
        let (da, db) = (self.ndim(), other.ndim());
        if da == 0 || db == 0 {
            bail!(Runtime, "both arguments to matmul need to be at least 1D, but they are {}D and {}D", da, db);
        }
        match (da, db) {
            (1, 1) => return self.dot(other),
            (2, 1) => return self.mv(other),
            (1, 2) => return self.unsqueeze(0)?.mm(other)?.squeeze(Some(&[0])),
            (2, 2) => return self.mm(other),
            _ => {}
        }
        check_mm_dtypes(self, other)?;
        let a = if da == 1 { self.unsqueeze(0)? } else { self.clone() };
        let b = if db == 1 { other.unsqueeze(-1)? } else { other.clone() };
        let (na, nb) = (a.ndim(), b.ndim());
        let (m, k) = (a.shape()[na - 2], a.shape()[na - 1]);
        let (k2, n) = (b.shape()[nb - 2], b.shape()[nb - 1]);
        let batch = broadcast_shapes(&a.shape()[..na - 2], &b.shape()[..nb - 2])?;
        if k != k2 {
            // PyTorch folds a batch times a matrix into one mm, else calls bmm: same messages.
            let count: usize = batch.iter().product();
            if db <= 2 {
                bail!(Runtime, "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})", count * m, k, k2, n);
            }
            bail!(
                Runtime,
                "Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: [{}, {}].",
                count,
                k,
                count,
                k2
            );
        }
        let r = product(&a, &b, None, one())?;
        match (da, db) {
            (1, _) => r.squeeze(Some(&[-2])),
            (_, 1) => r.squeeze(Some(&[-1])),
            _ => Ok(r),
        }
    }

    /// `addmm(mat1, mat2, beta, alpha)`: `beta * self + alpha * mat1 @ mat2`.
    pub fn addmm(&self, mat1: &Tensor, mat2: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("addmm", [self, mat1, mat2], |t| t[0].addmm(&t[1], &t[2], beta, alpha)) { return r; }
        if crate::autograd::needs_grad(&[mat1, mat2, self]) {
            return formulas::product("AddmmBackward0", mat1, mat2, Some((self, beta)), alpha, || self.addmm(mat1, mat2, beta, alpha));
        }
        check_matrix(mat1, "mat1")?;
        check_matrix(mat2, "mat2")?;
        check_mm_dtypes(mat1, mat2)?;
        check_mm_shapes(mat1, mat2)?;
        product(mat1, mat2, Some((self, beta)), alpha)
    }

    /// `addmv(mat, vec, beta, alpha)`: `beta * self + alpha * mat @ vec`.
    pub fn addmv(&self, mat: &Tensor, vec: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[mat, vec, self]) {
            return formulas::matrix_vector("AddmvBackward0", mat, vec, Some((self, beta)), alpha, || self.addmv(mat, vec, beta, alpha));
        }
        check_mv_shapes(Some(self), mat, vec)?;
        self.layout().broadcast_to(&[mat.shape()[0]])?;
        let bias = if self.ndim() == 1 { self.unsqueeze(-1)? } else { self.clone() };
        let r = product(mat, &vec.unsqueeze(-1)?, Some((&bias, beta)), alpha)?;
        r.squeeze(Some(&[-1]))
    }

    /// `addr(vec1, vec2, beta, alpha)`: `beta * self + alpha * outer(vec1, vec2)`.
    pub fn addr(&self, vec1: &Tensor, vec2: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[vec1, vec2, self]) {
            return formulas::addr(self, vec1, vec2, beta, alpha);
        }
        if vec1.ndim() != 1 || vec2.ndim() != 1 {
            bail!(Runtime, "addr: Expected 1-D argument vec1, but got {}-D", if vec1.ndim() != 1 { vec1.ndim() } else { vec2.ndim() });
        }
        check_mm_dtypes(vec1, vec2)?;
        product(&vec1.unsqueeze(1)?, &vec2.unsqueeze(0)?, Some((self, beta)), alpha)
    }

    /// `baddbmm(batch1, batch2, beta, alpha)`: `beta * self + alpha * batch1 @ batch2` per batch.
    pub fn baddbmm(&self, batch1: &Tensor, batch2: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("baddbmm", [self, batch1, batch2], |t| t[0].baddbmm(&t[1], &t[2], beta, alpha)) { return r; }
        if crate::autograd::needs_grad(&[batch1, batch2, self]) {
            return formulas::product("BaddbmmBackward0", batch1, batch2, Some((self, beta)), alpha, || self.baddbmm(batch1, batch2, beta, alpha));
        }
        check_bmm_shapes(batch1, batch2)?;
        product(batch1, batch2, Some((self, beta)), alpha)
    }

    /// `addbmm(batch1, batch2, beta, alpha)`: `beta * self + alpha * sum_b batch1[b] @ batch2[b]`.
    pub fn addbmm(&self, batch1: &Tensor, batch2: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("addbmm", [self, batch1, batch2], |t| t[0].addbmm(&t[1], &t[2], beta, alpha)) { return r; }
        if crate::autograd::needs_grad(&[batch1, batch2, self]) {
            return formulas::addbmm(self, batch1, batch2, beta, alpha);
        }
        check_bmm_shapes(batch1, batch2)?;
        let (bs, m, k) = (batch1.shape()[0], batch1.shape()[1], batch1.shape()[2]);
        let n = batch2.shape()[2];
        // The sum over the batch is one product over the batch-and-k dim.
        let a = batch1.permute(&[1, 0, 2])?.reshape(&[m as i64, (bs * k) as i64])?;
        let b = batch2.reshape(&[(bs * k) as i64, n as i64])?;
        product(&a, &b, Some((self, beta)), alpha)
    }

    /// `outer(vec2)` (alias `ger`): `self[:, None] * vec2[None, :]` with type promotion.
    pub fn outer(&self, vec2: &Tensor) -> Result<Tensor> {
        for (name, t) in [("self", self), ("vec2", vec2)] {
            if t.ndim() != 1 {
                bail!(Runtime, "outer: Expected 1-D argument {}, but got {}-D", name, t.ndim());
            }
        }
        self.unsqueeze(1)?.binary(BinaryOp::Mul, &Operand::Tensor(vec2.clone()))
    }

    /// `inner(other)`: contraction of the last dims; a product when either is 0-d.
    pub fn inner(&self, other: &Tensor) -> Result<Tensor> {
        if self.ndim() == 0 || other.ndim() == 0 {
            return self.binary(BinaryOp::Mul, &Operand::Tensor(other.clone()));
        }
        let (ka, kb) = (self.shape()[self.ndim() - 1], other.shape()[other.ndim() - 1]);
        if ka != kb {
            bail!(
                Runtime,
                "inner() the last dimension must match on both input tensors but got shapes {:?} and {:?}",
                self.shape(),
                other.shape()
            );
        }
        tensordot(self, other, &[-1], &[-1])
    }

    /// `kron(other)`: the Kronecker product, `result[i * bs + j] = a[i] * b[j]` per dim.
    pub fn kron(&self, other: &Tensor) -> Result<Tensor> {
        let nd = self.ndim().max(other.ndim());
        let pad = |t: &Tensor| -> Vec<usize> {
            let mut s = vec![1; nd - t.ndim()];
            s.extend_from_slice(t.shape());
            s
        };
        let (sa, sb) = (pad(self), pad(other));
        let a_shape: Vec<i64> = sa.iter().flat_map(|&s| [s as i64, 1]).collect();
        let b_shape: Vec<i64> = sb.iter().flat_map(|&s| [1, s as i64]).collect();
        let out: Vec<i64> = sa.iter().zip(&sb).map(|(&x, &y)| (x * y) as i64).collect();
        let r = self.reshape(&a_shape)?.binary(BinaryOp::Mul, &Operand::Tensor(other.reshape(&b_shape)?))?;
        r.reshape(&out)
    }
}

impl Tensor {
    /// `linalg.vecdot(x, y, dim)`: `sum(x * y, dim)` with broadcasting and type promotion.
    pub fn vecdot(&self, other: &Tensor, dim: i64) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("linalg_vecdot", [self, other], |t| t[0].vecdot(&t[1], dim)) { return r; }
        let prod = self.binary(BinaryOp::Mul, &Operand::Tensor(other.clone()))?;
        let d = crate::layout::wrap_dim(dim, prod.ndim())?;
        if prod.ndim() == 0 {
            return Ok(prod);
        }
        sum_trailing(&prod.movedim(&[d as i64], &[-1])?, 1)
    }

    /// `matrix_power(n)`: repeated squaring; negative powers invert first, `n = 0` gives
    /// identities.
    pub fn matrix_power(&self, n: i64) -> Result<Tensor> {
        let nd = self.ndim();
        if nd < 2 || self.shape()[nd - 1] != self.shape()[nd - 2] {
            bail!(Runtime, "linalg.matrix_power: A must be batches of square matrices, but they are {:?}", self.shape());
        }
        let size = self.shape()[nd - 1];
        if n == 0 {
            let eye = Tensor::eye_on(size, size, self.dtype(), self.device())?;
            let shape: Vec<i64> = self.shape().iter().map(|&s| s as i64).collect();
            return eye.expand(&shape)?.clone_contiguous();
        }
        let mut base = if n < 0 { self.linalg_inv()? } else { self.clone() };
        let mut e = n.unsigned_abs();
        let mut acc: Option<Tensor> = None;
        while e > 0 {
            if e & 1 == 1 {
                acc = Some(match acc {
                    None => base.clone(),
                    Some(a) => a.matmul(&base)?,
                });
            }
            e >>= 1;
            if e > 0 {
                base = base.matmul(&base)?;
            }
        }
        let r = acc.expect("n != 0");
        if r.is_same(self) && crate::autograd::needs_grad(&[self]) {
            formulas::clone(self)
        } else if r.is_same(self) {
            r.clone_contiguous()
        } else {
            Ok(r)
        }
    }
}

/// Sums `t` over its trailing `count` dims as a product with a vector of ones.
pub(crate) fn sum_trailing(t: &Tensor, count: usize) -> Result<Tensor> {
    let keep = &t.shape()[..t.ndim() - count];
    let rows: usize = keep.iter().product();
    let cols: usize = t.shape()[t.ndim() - count..].iter().product();
    let flat = t.reshape(&[rows as i64, cols as i64])?;
    if t.is_cuda() && !t.dtype().is_float() {
        // cuBLAS multiplies floats only.
        return flat.sum(Some(&[1]), false, Some(t.dtype()))?.reshape(&keep.iter().map(|&s| s as i64).collect::<Vec<_>>());
    }
    let ones = Tensor::full_on(&[cols, 1], Scalar::Int(1), t.dtype(), t.device())?;
    let keep: Vec<i64> = keep.iter().map(|&s| s as i64).collect();
    product(&flat, &ones, None, one())?.reshape(&keep)
}
