//! What the engine asks of a device: its kind, and a GPU's largest buffer. The only module
//! that looks inside burn's device.

use burn::tensor::Device;

/// The kind of device a run's work happens on, for the defaults that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// burn's CPU backend, natively or compiled to wasm.
    Cpu,
    /// A GPU through wgpu (WebGPU in the browser).
    Gpu,
}

impl DeviceKind {
    /// Memory (MiB) one pass of a network may take by default on this kind of device
    /// ([`StyleOptions::memory_budget`](crate::StyleOptions::memory_budget)): 1024 on the CPU (a browser tab's wasm memory holds
    /// at most 4 GB, which the images and L-BFGS's history share); 768 on a GPU, whose memory
    /// in a browser is often 1–2 GB shared with the page and the compositor.
    pub fn memory_budget(self) -> u32 {
        match self {
            Self::Cpu => 1024,
            Self::Gpu => 768,
        }
    }
}

/// The kind of `device` (or of the device an autodiff device wraps): wgpu's devices are GPUs,
/// whatever runs them.
pub fn kind(device: &Device) -> DeviceKind {
    match is_cube(device) {
        true => DeviceKind::Gpu,
        false => DeviceKind::Cpu,
    }
}

/// Whether `device` (or the device an autodiff device wraps) is a cubecl one: wgpu.
#[cfg(feature = "gpu")]
pub(crate) fn is_cube(device: &Device) -> bool {
    use burn::backend::DispatchDevice;
    matches!(
        device.clone().without_autodiff().as_dispatch(),
        DispatchDevice::Cube(_)
    )
}

#[cfg(not(feature = "gpu"))]
pub(crate) fn is_cube(_device: &Device) -> bool {
    false
}

/// A wgpu device's largest buffer in bytes, for [`crate::Stylizer::with_max_buffer`]: the
/// smaller of its largest storage binding and its largest buffer.
#[cfg(feature = "gpu")]
pub fn max_buffer(setup: &burn::tensor::wgpu::WgpuSetup) -> u64 {
    let limits = setup.device.limits();
    limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::cpu;

    #[test]
    fn the_cpu_backend_is_a_cpu_and_wgpu_a_gpu() {
        assert_eq!(kind(&cpu()), DeviceKind::Cpu);
        assert_eq!(kind(&cpu().autodiff()), DeviceKind::Cpu);
        #[cfg(feature = "gpu")]
        if let Some(gpu) = crate::test_util::gpu() {
            assert_eq!(kind(&gpu), DeviceKind::Gpu);
            assert_eq!(kind(&gpu.autodiff()), DeviceKind::Gpu);
        }
    }
}
