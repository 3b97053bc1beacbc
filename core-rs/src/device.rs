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
