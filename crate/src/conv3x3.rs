//! VGG's one convolution: 3×3, stride 1, padding 1 ("same"), with bias and ReLU, on the
//! kernel chosen for the device.
//!
//! On wgpu (WebGPU in the browser) the default is our implicit-GEMM kernel
//! ([`ConvKernel::Gemm`], `conv3x3/kernel.rs`): burn's own convolution there, with autotune
//! off as the browser needs, is a direct kernel that shares no loads across a workgroup. Only the gradient
//! with respect to the input is ever needed (the weights are constants), and for a 3×3 same
//! convolution that gradient is the same convolution of the output gradient with the kernel
//! flipped spatially and its channels swapped. Both weight layouts are prepared once, so one
//! kernel serves the forward and the backward pass. Elsewhere (the CPU backend), and on wgpu
//! when asked for, burn's `conv2d` runs ([`ConvKernel::Direct`]).

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, activation::relu};

#[cfg(feature = "gpu")]
mod autodiff;
#[cfg(feature = "gpu")]
mod kernel;

/// Which kernel runs the 3×3 convolutions of VGG16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConvKernel {
    /// burn's `conv2d` (on wgpu with autotune off: its direct kernel, and a direct transposed
    /// convolution for the gradient).
    Direct,
    /// Our implicit-GEMM kernel (`conv3x3/kernel.rs`), for the forward and the backward pass (wgpu only).
    Gemm,
}

impl ConvKernel {
    /// The faster kernel that `device` can run: [`Self::Gemm`] on wgpu, else [`Self::Direct`].
    pub fn default_for(device: &Device) -> Self {
        if Self::Gemm.runs_on(device) {
            Self::Gemm
        } else {
            Self::Direct
        }
    }

    /// Whether this kernel can run on `device`.
    pub fn runs_on(self, device: &Device) -> bool {
        match self {
            Self::Direct => true,
            Self::Gemm => crate::device::is_cube(device),
        }
    }

    /// The name used on the command line and in JavaScript: `direct` or `gemm`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Gemm => "gemm",
        }
    }

    /// Parses [`Self::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Direct, Self::Gemm]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// One 3×3 same convolution with bias, its weights laid out for its kernel.
#[derive(Debug, Clone)]
pub struct Conv3x3 {
    weights: Weights,
    bias: Tensor<1>,
}

// Eleven layers of one network: the larger variant's size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum Weights {
    /// `[out, in, 3, 3]`, as burn's `conv2d` takes them.
    Direct(Tensor<4>),
    /// As GEMM operands: `forward` is `[in · 9, out]` (row `ci · 9 + ky · 3 + kx`), `flipped`
    /// is `[out · 9, in]`, the kernel of the gradient with respect to the input.
    #[cfg_attr(not(feature = "gpu"), allow(dead_code))]
    Gemm {
        forward: Tensor<2>,
        flipped: Tensor<2>,
    },
}

impl Conv3x3 {
    /// A layer from burn's layout, `weight` `[out, in, 3, 3]` and `bias` `[out]`.
    ///
    /// # Panics
    /// If `kernel` cannot run on the weights' device (see [`ConvKernel::runs_on`]), or the
    /// kernel is not 3×3.
    pub fn new(weight: Tensor<4>, bias: Tensor<1>, kernel: ConvKernel) -> Self {
        let [out_channels, in_channels, kh, kw] = weight.dims();
        assert_eq!([kh, kw], [3, 3], "a 3×3 kernel");
        assert!(
            kernel.runs_on(&weight.device()),
            "the {} kernel cannot run on {:?}",
            kernel.name(),
            weight.device()
        );
        let weights = match kernel {
            ConvKernel::Direct => Weights::Direct(weight),
            ConvKernel::Gemm => Weights::Gemm {
                forward: weight
                    .clone()
                    .permute([1, 2, 3, 0])
                    .reshape([in_channels * 9, out_channels]),
                flipped: weight
                    .flip([2, 3])
                    .permute([0, 2, 3, 1])
                    .reshape([out_channels * 9, in_channels]),
            },
        };
        Self { weights, bias }
    }

    /// `relu(conv(x) + bias)` when `relu`, else `conv(x) + bias`.
    ///
    /// # Shapes
    /// `[n, in, h, w]` → `[n, out, h, w]`
    pub fn forward(&self, x: Tensor<4>, relu_after: bool) -> Tensor<4> {
        match &self.weights {
            Weights::Direct(weight) => {
                let same = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
                let y = conv2d(x, weight.clone(), Some(self.bias.clone()), same);
                if relu_after { relu(y) } else { y }
            }
            #[cfg(feature = "gpu")]
            Weights::Gemm { forward, flipped } => {
                use burn::backend::Dispatch;
                Tensor::from_dispatch(<Dispatch as Conv3x3Ops>::conv3x3(
                    x.into_dispatch(),
                    forward.clone().into_dispatch(),
                    flipped.clone().into_dispatch(),
                    self.bias.clone().into_dispatch(),
                    relu_after,
                ))
            }
            #[cfg(not(feature = "gpu"))]
            Weights::Gemm { .. } => unreachable!("ConvKernel::runs_on refuses Gemm"),
        }
    }
}

#[cfg(feature = "gpu")]
pub use extension::Conv3x3Ops;

#[cfg(feature = "gpu")]
mod extension {
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{Backend, backend_extension};

    /// The backend operation behind [`super::ConvKernel::Gemm`]: cubecl's kernel, fusion's
    /// deferred call of it, and autodiff's backward pass through it.
    #[backend_extension(Cube: cfg(feature = "gpu"), Fusion: cfg(feature = "gpu"), Autodiff)]
    pub trait Conv3x3Ops: Backend {
        /// 3×3 same convolution of `input` `[n, in, h, w]` with `weight` `[in · 9, out]` plus
        /// `bias` `[out]`, then ReLU when `relu`. `flipped` `[out · 9, in]` is the weight of the
        /// gradient with respect to the input; only autodiff reads it.
        #[fusion(dtype = input, shape = super::output_shape(input, weight))]
        fn conv3x3(
            input: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            flipped: FloatTensor<Self>,
            bias: FloatTensor<Self>,
            relu: bool,
        ) -> FloatTensor<Self>;
    }
}

/// `[n, out, h, w]` for an input `[n, in, h, w]` and a GEMM weight `[in · 9, out]`.
#[cfg(feature = "gpu")]
fn output_shape(input: &burn::tensor::Shape, weight: &burn::tensor::Shape) -> burn::tensor::Shape {
    burn::tensor::Shape::from([input[0], weight[1], input[2], input[3]])
}

#[cfg(all(test, feature = "gpu"))]
mod tests {
    use burn::tensor::TensorData;

    use super::*;
    use crate::test_util::{cpu, gpu, read, relative_error};

    /// Deterministic values in [-1, 1).
    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.5 - 1.0)
            .collect()
    }

    fn tensor<const D: usize>(shape: [usize; D], seed: usize, device: &Device) -> Tensor<D> {
        let len = shape.iter().product();
        Tensor::from_data(TensorData::new(values(len, seed), shape), device)
    }

    /// The output and the gradient of `sum(output · r)` with respect to the input.
    fn run(
        kernel: ConvKernel,
        device: &Device,
        [n, cin, cout, h, w]: [usize; 5],
        relu: bool,
    ) -> (Vec<f32>, Vec<f32>) {
        let conv = Conv3x3::new(
            tensor([cout, cin, 3, 3], 1, device).mul_scalar(0.3),
            tensor([cout], 2, device),
            kernel,
        );
        let x = tensor([n, cin, h, w], 3, device).autodiff().require_grad();
        let y = conv.forward(x.clone(), relu);
        let r = tensor([n, cout, h, w], 4, device).autodiff();
        let grad = x.grad(&(y.clone() * r).sum().backward()).unwrap();
        (read(y.detach()), read(grad))
    }

    /// The implicit-GEMM kernel on wgpu against burn's convolution on the CPU backend, forward and
    /// input gradient. Shapes cross block edges on purpose: pixels and channels not multiples
    /// of the 64 × 64 block (or of the 256 × 16 one for few channels, the 16 × 256 one for few
    /// pixels), K = 9 · in not a multiple of its 16-row (8-row) chunk, a batch of two, and one
    /// VGG-sized layer. Both sides sum the same f32 products in another order, which
    /// moves a sum of K ≤ 4608 terms by about 1e-6 of its size; the bound of 1e-4 leaves a
    /// hundredfold margin, while a wrong tap, flip, layout or edge gives errors of order 1.
    #[test]
    fn gemm_kernel_matches_burn_on_the_cpu() {
        let Some(gpu) = gpu() else { return };
        for (shape, relu) in [
            ([2, 3, 70, 7, 13], true),
            ([1, 67, 5, 9, 4], false),
            ([1, 1, 1, 1, 1], false),
            // Few channels: the 256 × 16 block, forward and backward.
            ([1, 8, 3, 20, 17], true),
            // More channel blocks than one, with a batch: the z index splits right.
            ([3, 5, 130, 6, 7], true),
            // Few pixels: the 16 × 256 block, forward and backward, one channel block or two.
            ([2, 70, 300, 3, 5], true),
            ([1, 300, 40, 4, 4], false),
            ([1, 64, 128, 24, 20], true),
        ] {
            let (y, grad) = run(ConvKernel::Gemm, &gpu, shape, relu);
            let (y_ref, grad_ref) = run(ConvKernel::Direct, &cpu(), shape, relu);
            let (e_y, e_grad) = (relative_error(&y, &y_ref), relative_error(&grad, &grad_ref));
            println!("{shape:?} relu {relu}: output {e_y:.1e}, input gradient {e_grad:.1e}");
            assert!(e_y < 1e-4 && e_grad < 1e-4, "{shape:?}: {e_y}, {e_grad}");
        }
    }

    /// burn's direct kernel on wgpu agrees too, so `bench` compares like with like.
    #[test]
    fn direct_kernel_on_wgpu_matches_the_gemm_one() {
        let Some(gpu) = gpu() else { return };
        let shape = [1, 16, 24, 11, 9];
        let (y, grad) = run(ConvKernel::Direct, &gpu, shape, true);
        let (y_gemm, grad_gemm) = run(ConvKernel::Gemm, &gpu, shape, true);
        assert!(relative_error(&y, &y_gemm) < 1e-4);
        assert!(relative_error(&grad, &grad_gemm) < 1e-4);
    }

    #[test]
    fn kernels_by_device() {
        assert_eq!(ConvKernel::default_for(&cpu()), ConvKernel::Direct);
        assert!(!ConvKernel::Gemm.runs_on(&cpu()));
        for kernel in [ConvKernel::Direct, ConvKernel::Gemm] {
            assert_eq!(ConvKernel::from_name(kernel.name()), Some(kernel));
        }
        if let Some(gpu) = gpu() {
            assert_eq!(ConvKernel::default_for(&gpu), ConvKernel::Gemm);
            assert_eq!(ConvKernel::default_for(&gpu.autodiff()), ConvKernel::Gemm);
        }
    }
}
