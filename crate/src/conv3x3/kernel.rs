//! The implicit-GEMM kernel behind [`super::Conv3x3Ops`] on cubecl (wgpu: WebGPU in the
//! browser, Vulkan / Metal natively).
//!
//! A 3×3, stride 1, padding 1 convolution is a matrix product: output pixels (M = h·w) ×
//! output channels (N) over K = in_channels · 9 taps. A workgroup of 256 units computes a
//! block of the output, 64 pixels × 64 channels (256 × 16 when there are few channels, 16 × 256
//! when there are few pixels); each unit keeps 4 × 4 values of it in registers. The K loop
//! runs in chunks: the units first copy the chunk's input patch (im2col on the fly, zero
//! outside the image) and weights into workgroup memory, then every unit reads each value it
//! needs from there, 4 + 4 reads per 16 multiply-adds. Units with neighbouring indices own
//! neighbouring pixels, so reads of the input and writes of the output coalesce.

use burn::backend::cubecl::dtype_to_storage_type;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use cubecl::prelude::*;
use cubecl::{CubeCount, CubeDim};

use super::Conv3x3Ops;

/// Units per workgroup; each computes 4 pixels × 4 channels of the output.
const UNITS: u32 = 256;
/// Workgroups along one dimension of a dispatch (WebGPU's least `maxComputeWorkgroupsPerDimension`).
const MAX_WORKGROUPS: u32 = 65_535;
/// Workgroup memory every WebGPU adapter allows (`maxComputeWorkgroupStorageSize`), in bytes.
const WORKGROUP_MEMORY: u32 = 16 * 1024;

/// A workgroup's share of the output and of K at a time. Both shapes keep 256 units busy and
/// their workgroup memory under WebGPU's 16 KiB.
#[derive(Debug, Clone, Copy)]
struct Block {
    pixels: u32,
    channels: u32,
    k: u32,
}

impl Block {
    /// 64 × 64, 16 taps at a time: every layer of VGG16 forward.
    const SQUARE: Block = Block {
        pixels: 64,
        channels: 64,
        k: 16,
    };
    /// 256 × 16, 8 taps at a time: few output channels, as the gradient of `conv1_1` (3).
    const WIDE: Block = Block {
        pixels: 256,
        channels: 16,
        k: 8,
    };
    /// 16 × 256, 8 taps at a time (16 taps would pass WebGPU's 16 KiB of workgroup memory): few
    /// output pixels, as the deepest layers of a small picture (`conv5_1` has 4 at 32 px).
    const NARROW: Block = Block {
        pixels: 16,
        channels: 256,
        k: 8,
    };

    /// What the kernel's index arithmetic assumes (each unit covers 4 × 4 values of the block),
    /// and what WebGPU allows every adapter (16 KiB of workgroup memory).
    const fn fits(self) -> bool {
        UNITS.is_multiple_of(self.pixels)
            && UNITS.is_multiple_of(self.channels)
            && (self.pixels / 4) * (self.channels / 4) == UNITS
            && (self.k * (self.pixels + self.channels)) * 4 <= WORKGROUP_MEMORY
    }

    /// The block for an output of `pixels` × `channels`. The square block moves the fewest values
    /// per multiply-add; the others take over where it would leave most of itself empty.
    fn for_output(pixels: usize, channels: usize) -> Self {
        if channels <= Self::WIDE.channels as usize {
            Self::WIDE
        } else if pixels <= NARROW_MAX_PIXELS {
            Self::NARROW
        } else {
            Self::SQUARE
        }
    }
}

/// Outputs of at most this many pixels take [`Block::NARROW`].
const NARROW_MAX_PIXELS: usize = 16;

const _: () = assert!(Block::SQUARE.fits() && Block::WIDE.fits() && Block::NARROW.fits());

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn conv3x3_kernel<F: Float>(
    input: &Tensor<F>,
    weight: &Tensor<F>,
    bias: &Tensor<F>,
    output: &mut Tensor<F>,
    height: u32,
    width: u32,
    in_channels: u32,
    out_channels: u32,
    #[comptime] relu: bool,
    #[comptime] block_pixels: u32,
    #[comptime] block_channels: u32,
    #[comptime] block_k: u32,
    #[define(F)] _dtype: ElemType,
) {
    let pixels = height * width;
    let taps = in_channels * 9;
    // Pixel blocks run along x and y (a dimension holds at most 65 535 workgroups), channel
    // blocks and the batch along z.
    let channel_blocks = out_channels.div_ceil(block_channels);
    let batch = CUBE_POS_Z / channel_blocks;
    let pixel0 = (CUBE_POS_X + CUBE_POS_Y * CUBE_COUNT_X) * block_pixels;
    let channel0 = (CUBE_POS_Z % channel_blocks) * block_channels;
    let unit = UNIT_POS;

    // [k][pixel] and [k][channel], `block_k` rows each.
    let mut patch = Shared::<[F]>::new_slice(comptime!((block_k * block_pixels) as usize));
    let mut kernel = Shared::<[F]>::new_slice(comptime!((block_k * block_channels) as usize));
    let mut sum = Array::<F>::new(16usize);
    #[unroll]
    for i in 0..16usize {
        sum[i] = F::new(0.0);
    }

    // What this unit copies of the patch: one pixel (column) of the block, in rows
    // `first_row + r · row_step` of the chunk.
    let row_step = comptime!(UNITS / block_pixels);
    let column = unit % block_pixels;
    let first_row = unit / block_pixels;
    let load_pixel = pixel0 + column;
    let load_y = (load_pixel / width) as i32;
    let load_x = (load_pixel % width) as i32;
    let input_base = batch * in_channels * pixels;
    // And of the weights: one channel, in rows `weight_row + r · weight_step`.
    let weight_step = comptime!(UNITS / block_channels);
    let weight_column = unit % block_channels;
    let weight_row = unit / block_channels;
    let load_channel = channel0 + weight_column;

    // What this unit computes: pixels `tx + i · block_pixels / 4`, channels
    // `ty + j · block_channels / 4` of the block.
    let pixel_step = comptime!(block_pixels / 4);
    let channel_step = comptime!(block_channels / 4);
    let tx = unit % pixel_step;
    let ty = unit / pixel_step;

    let chunks = taps.div_ceil(block_k);
    for chunk in 0..chunks {
        let k0 = chunk * block_k;
        #[unroll]
        for r in 0..comptime!((block_k * block_pixels).div_ceil(UNITS)) {
            let row = first_row + r * row_step;
            if row < block_k {
                let k = k0 + row;
                let channel_in = k / 9;
                let tap = k % 9;
                let y = load_y + (tap / 3) as i32 - 1;
                let x = load_x + (tap % 3) as i32 - 1;
                let mut value = F::new(0.0);
                if k < taps
                    && load_pixel < pixels
                    && y >= 0
                    && y < height as i32
                    && x >= 0
                    && x < width as i32
                {
                    let at = input_base + channel_in * pixels + y as u32 * width + x as u32;
                    value = input[at as usize];
                }
                patch[(row * block_pixels + column) as usize] = value;
            }
        }
        #[unroll]
        for r in 0..comptime!((block_k * block_channels).div_ceil(UNITS)) {
            let row = weight_row + r * weight_step;
            if row < block_k {
                let k = k0 + row;
                let mut w = F::new(0.0);
                if k < taps && load_channel < out_channels {
                    w = weight[(k * out_channels + load_channel) as usize];
                }
                kernel[(row * block_channels + weight_column) as usize] = w;
            }
        }
        sync_cube();

        #[unroll]
        for row in 0..block_k {
            let mut a = Array::<F>::new(4usize);
            let mut b = Array::<F>::new(4usize);
            #[unroll]
            for i in 0..4u32 {
                a[i as usize] = patch[(row * block_pixels + tx + i * pixel_step) as usize];
                b[i as usize] = kernel[(row * block_channels + ty + i * channel_step) as usize];
            }
            #[unroll]
            for i in 0..4u32 {
                #[unroll]
                for j in 0..4u32 {
                    let at = (i * 4 + j) as usize;
                    sum[at] += a[i as usize] * b[j as usize];
                }
            }
        }
        sync_cube();
    }

    #[unroll]
    for i in 0..4u32 {
        let pixel = pixel0 + tx + i * pixel_step;
        #[unroll]
        for j in 0..4u32 {
            let channel = channel0 + ty + j * channel_step;
            if pixel < pixels && channel < out_channels {
                let mut value = sum[(i * 4 + j) as usize] + bias[channel as usize];
                if relu {
                    value = F::max(value, F::new(0.0));
                }
                output[((batch * out_channels + channel) * pixels + pixel) as usize] = value;
            }
        }
    }
}

impl Conv3x3Ops for CubeBackend {
    fn conv3x3(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        _flipped: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let input = into_contiguous(input);
        let weight = into_contiguous(weight);
        let bias = into_contiguous(bias);
        let [batch, in_channels, height, width] = input.meta.shape().dims();
        let out_channels = weight.meta.shape()[1];
        assert_eq!(
            weight.meta.shape()[0],
            in_channels * 9,
            "conv3x3: the weight has in_channels · 9 rows"
        );
        let dtype = input.dtype;
        let output = empty_device_contiguous_dtype(
            input.client.clone(),
            input.device.clone(),
            Shape::from([batch, out_channels, height, width]),
            dtype,
        );
        let block = Block::for_output(height * width, out_channels);
        let pixel_blocks = ((height * width) as u32).div_ceil(block.pixels);
        let along_x = pixel_blocks.min(MAX_WORKGROUPS);
        let count = CubeCount::Static(
            along_x,
            pixel_blocks.div_ceil(along_x),
            (out_channels as u32).div_ceil(block.channels) * batch as u32,
        );
        conv3x3_kernel::launch(
            &output.client,
            count,
            CubeDim::new_1d(UNITS),
            input.into_tensor_arg(),
            weight.into_tensor_arg(),
            bias.into_tensor_arg(),
            output.clone().into_tensor_arg(),
            height as u32,
            width as u32,
            in_channels as u32,
            out_channels as u32,
            relu,
            block.pixels,
            block.channels,
            block.k,
            dtype_to_storage_type(dtype),
        );
        output
    }
}
