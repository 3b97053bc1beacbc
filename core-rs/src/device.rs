//! Where a tensor's memory lives.

/// A device, as `torch.device`: the CPU or the N-th CUDA GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Device {
    #[default]
    Cpu,
    Cuda(usize),
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl Device {
    /// The device type's name, as `torch.device.type`: `cpu` or `cuda`.
    pub fn type_name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda(_) => "cuda",
        }
    }
}

/// The device an op over `tensors` runs on. As in PyTorch, all tensors must share one device,
/// except that 0-d CPU tensors may join tensors on a GPU (they act as scalars).
pub fn common_device(tensors: &[&crate::tensor::Tensor]) -> crate::error::Result<Device> {
    let mismatch = |a: Device, b: Device| {
        crate::err!(Runtime, "Expected all tensors to be on the same device, but found at least two devices, {} and {}!", a, b)
    };
    let mut gpu: Option<Device> = None;
    for d in tensors.iter().map(|t| t.device()).filter(|&d| d != Device::Cpu) {
        match gpu {
            Some(g) if g != d => return Err(mismatch(g, d)),
            _ => gpu = Some(d),
        }
    }
    let Some(gpu) = gpu else { return Ok(Device::Cpu) };
    if tensors.iter().any(|t| t.device() == Device::Cpu && t.ndim() > 0) {
        return Err(mismatch(gpu, Device::Cpu));
    }
    Ok(gpu)
}

/// Results an op may hand back from a host run to the device its input lives on.
pub trait Movable: Sized {
    /// `self` with every tensor moved to `device`.
    fn moved_to(self, device: Device) -> crate::error::Result<Self>;
}

impl Movable for crate::tensor::Tensor {
    fn moved_to(self, device: Device) -> crate::error::Result<Self> {
        self.to_device(device)
    }
}

impl Movable for (crate::tensor::Tensor, crate::tensor::Tensor) {
    fn moved_to(self, device: Device) -> crate::error::Result<Self> {
        Ok((self.0.to_device(device)?, self.1.to_device(device)?))
    }
}

impl Movable for (crate::tensor::Tensor, Option<crate::tensor::Tensor>) {
    fn moved_to(self, device: Device) -> crate::error::Result<Self> {
        Ok((self.0.to_device(device)?, self.1.map(|t| t.to_device(device)).transpose()?))
    }
}

/// Runs `f` on a host copy of `t` and moves its result back to `t`'s device: the path of ops
/// with no CUDA kernel yet (the CPU's results, at host speed, the data crossing to the host and
/// back). Callers route here after their autograd branch, so the copy records nothing.
pub fn on_host<R: Movable>(t: &crate::tensor::Tensor, f: impl FnOnce(&crate::tensor::Tensor) -> crate::error::Result<R>) -> crate::error::Result<R> {
    let device = t.device();
    f(&t.to_device(Device::Cpu)?)?.moved_to(device)
}

/// `on_host` for ops of two tensors, which must share a device (a 0-d host operand may join a
/// CUDA one, as in element-wise ops); the result goes to that device.
pub fn on_host2<R: Movable>(
    a: &crate::tensor::Tensor,
    b: &crate::tensor::Tensor,
    f: impl FnOnce(&crate::tensor::Tensor, &crate::tensor::Tensor) -> crate::error::Result<R>,
) -> crate::error::Result<R> {
    let device = common_device(&[a, b])?;
    f(&a.to_device(Device::Cpu)?, &b.to_device(Device::Cpu)?)?.moved_to(device)
}
