//! The tensor: a shared storage seen through a layout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::autograd::meta::Meta;
use crate::device::Device;
use crate::dtype::{DType, Element, Scalar};
use crate::error::Result;
use crate::layout::{checked_numel, Layout};
use crate::storage::Storage;

/// What a `Tensor` handle points to.
pub struct TensorImpl {
    storage: Arc<Storage>,
    layout: Layout,
    device: Device,
    /// The tensor this one is a view of (always a non-view), so in-place writes through the
    /// view can rebase the base's autograd history.
    base: Option<Tensor>,
    /// `requires_grad`, readable without the lock: every op checks it.
    requires_grad: AtomicBool,
    /// Autograd state; `None` for the many tensors that never take part in autograd.
    meta: Mutex<Option<Box<Meta>>>,
}

/// A cheap-to-clone handle to a strided view of a storage.
#[derive(Clone)]
pub struct Tensor(Arc<TensorImpl>);

impl Tensor {
    /// A tensor viewing `storage` through `layout`.
    pub fn from_parts(storage: Arc<Storage>, layout: Layout) -> Tensor {
        debug_assert!(layout.storage_extent() <= storage.numel());
        Self::new_impl(storage, layout, None)
    }

    fn new_impl(storage: Arc<Storage>, layout: Layout, base: Option<Tensor>) -> Tensor {
        Tensor(Arc::new(TensorImpl {
            device: storage.device(),
            storage,
            layout,
            base,
            requires_grad: AtomicBool::new(false),
            meta: Mutex::new(None),
        }))
    }

    /// A new contiguous tensor with uninitialised contents; callers fill every element.
    pub fn uninit(shape: &[usize], dtype: DType) -> Result<Tensor> {
        let numel = checked_numel(shape)?;
        Ok(Self::from_parts(Arc::new(Storage::uninit(numel, dtype)?), Layout::contiguous(shape)))
    }

    /// A new contiguous tensor on `device` with uninitialised contents.
    pub fn uninit_on(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        let numel = checked_numel(shape)?;
        Ok(Self::from_parts(Arc::new(Storage::uninit_on(numel, dtype, device)?), Layout::contiguous(shape)))
    }

    /// A contiguous tensor of zeros.
    pub fn zeros(shape: &[usize], dtype: DType) -> Result<Tensor> {
        let numel = checked_numel(shape)?;
        Ok(Self::from_parts(Arc::new(Storage::zeros(numel, dtype)?), Layout::contiguous(shape)))
    }

    /// Zeros of `shape` and `dtype` on `device` (gradients and buffers made beside a tensor
    /// that may live on a GPU).
    pub fn zeros_on(shape: &[usize], dtype: DType, device: crate::Device) -> Result<Tensor> {
        if device == crate::Device::Cpu {
            return Tensor::zeros(shape, dtype);
        }
        Tensor::full_on(shape, crate::Scalar::Int(0), dtype, device)
    }

    /// A contiguous tensor holding `data` (row-major) with `shape`.
    pub fn from_slice<T: Element>(data: &[T], shape: &[usize]) -> Result<Tensor> {
        let numel = checked_numel(shape)?;
        if numel != data.len() {
            crate::bail!(Runtime, "shape {:?} is invalid for input of size {}", shape, data.len());
        }
        let t = Self::uninit(shape, T::DTYPE)?;
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), t.data_ptr::<T>()?, numel) };
        Ok(t)
    }

    /// A 0-d tensor holding `value` converted to `dtype`.
    pub fn scalar(value: Scalar, dtype: DType) -> Tensor {
        let t = Self::uninit(&[], dtype).expect("one element always fits");
        crate::with_dtype!(dtype, T => unsafe { *t.data_ptr::<T>().expect("CPU storage") = T::from_scalar(value) });
        t
    }

    /// Another view of the same storage.
    pub fn with_layout(&self, layout: Layout) -> Tensor {
        let base = self.0.base.clone().unwrap_or_else(|| self.clone());
        Self::new_impl(self.0.storage.clone(), layout, Some(base))
    }

    /// A new tensor sharing the storage but not its identity or autograd history
    /// (`detach()`): not a view for autograd's purposes.
    pub fn alias(&self) -> Tensor {
        Self::from_parts(self.0.storage.clone(), self.0.layout.clone())
    }

    /// The non-view tensor this tensor is a view of.
    pub fn base(&self) -> Option<&Tensor> {
        self.0.base.as_ref()
    }

    /// Whether autograd tracks this tensor: a leaf that requires grad or a computed result.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Relaxed)
    }

    pub(crate) fn set_requires_grad_flag(&self, on: bool) {
        self.0.requires_grad.store(on, Ordering::Relaxed)
    }

    /// The autograd state, created on first use.
    pub(crate) fn meta(&self) -> MutexGuard<'_, Option<Box<Meta>>> {
        self.0.meta.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A weak handle, for nodes that must not keep a tensor alive.
    pub(crate) fn downgrade(&self) -> std::sync::Weak<TensorImpl> {
        Arc::downgrade(&self.0)
    }

    pub(crate) fn upgrade(w: &std::sync::Weak<TensorImpl>) -> Option<Tensor> {
        w.upgrade().map(Tensor)
    }

    /// Identity of the tensor object, for hashing.
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    pub fn storage(&self) -> &Arc<Storage> {
        &self.0.storage
    }

    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }

    pub fn shape(&self) -> &[usize] {
        &self.0.layout.shape
    }

    pub fn strides(&self) -> &[usize] {
        &self.0.layout.strides
    }

    pub fn offset(&self) -> usize {
        self.0.layout.offset
    }

    pub fn dtype(&self) -> DType {
        self.0.storage.dtype()
    }

    pub fn device(&self) -> Device {
        self.0.device
    }

    pub fn ndim(&self) -> usize {
        self.0.layout.ndim()
    }

    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    /// Host pointer to element 0 of the storage (not of the view: add `offset()`). CPU
    /// kernels reach memory only through this, so a CUDA tensor arriving at an op without a
    /// CUDA path gets an error here instead of a wild host read.
    pub fn data_ptr<T: Element>(&self) -> Result<*mut T> {
        self.0.storage.typed_ptr::<T>()
    }

    pub fn is_cuda(&self) -> bool {
        matches!(self.device(), Device::Cuda(_))
    }

    /// Whether two handles are views of one storage.
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// Whether two handles are the same tensor object.
    pub fn is_same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The elements in row-major order (copied to the host first for a CUDA tensor). `T` must
    /// be the tensor's dtype.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if self.is_cuda() {
            return self.to_device(Device::Cpu)?.to_vec();
        }
        let mut out = Vec::with_capacity(self.numel());
        let base = self.data_ptr::<T>()?;
        crate::cpu::iter::for_each_offset(self.layout(), |off| out.push(unsafe { *base.add(off) }));
        Ok(out)
    }

    /// The only element of a one-element tensor.
    pub fn item(&self) -> Result<Scalar> {
        if self.numel() != 1 {
            crate::bail!(
                Runtime,
                "a Tensor with {} elements cannot be converted to Scalar",
                self.numel()
            );
        }
        if self.is_cuda() {
            return self.to_device(Device::Cpu)?.item();
        }
        let off = self.offset();
        Ok(crate::with_dtype!(self.dtype(), T => {
            let v = unsafe { *self.data_ptr::<T>()?.add(off) };
            element_to_scalar(v)
        }))
    }

    /// Marks the storage as written in place.
    pub fn bump_version(&self) {
        self.0.storage.bump_version()
    }
}

/// The Python number an element reads as.
pub fn element_to_scalar<T: Element>(v: T) -> Scalar {
    if T::DTYPE == DType::Bool {
        Scalar::Bool(v.is_nonzero())
    } else if T::DTYPE.is_float() {
        Scalar::Float(v.to_f64())
    } else {
        Scalar::Int(v.to_i64())
    }
}
