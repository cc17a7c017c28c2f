//! Quantizing VGG16 for its weight file, and writing weight files (the reading side is
//! `weights.rs`): used by the `quantize-vgg` and `convert-fast` binaries and the tests.

use crate::weights::{ConvWeights, QuantizedConv, VggWeights};

/// Bit width of each layer of the weight file (`conv1_1` … `conv5_1`): int8 for the first
/// four layers, 6 bits for `conv3_x`, 5 bits for `conv4_x` and `conv5_1` (8.3 M of the 10 M
/// weights). Chosen from finished stylizations judged by the float network (`judge-weights`,
/// models/README.md): within 1.2 % of all-int8's losses, and 4.8 MB instead of 7.6 MB with
/// Brotli.
pub const VGG_BITS: [u32; 11] = [8, 8, 8, 8, 6, 6, 6, 5, 5, 5, 5];

/// Reads bit widths written `B1,...,B11` (one per layer, `conv1_1` … `conv5_1`, each 2 to 8).
pub fn parse_bits(text: &str) -> Result<[u32; 11], String> {
    let bits: Vec<u32> = text
        .split(',')
        .map(|b| b.trim().parse().map_err(|e| format!("{b}: {e}")))
        .collect::<Result<_, _>>()?;
    match <[u32; 11]>::try_from(bits) {
        Ok(bits) if bits.iter().all(|b| (2..=8).contains(b)) => Ok(bits),
        _ => Err("eleven bit widths from 2 to 8".into()),
    }
}

impl VggWeights {
    /// Quantizes every layer to the bit width given for it (see [`QuantizedConv::new`]), one
    /// scale per output channel.
    pub fn quantize(&self, bits: &[u32; 11]) -> Vec<QuantizedConv> {
        self.layers
            .iter()
            .zip(bits)
            .map(|(layer, &bits)| QuantizedConv::new(layer, bits))
            .collect()
    }
}

impl QuantizedConv {
    /// Quantizes one VGG16 layer to `bits` (2 to 8), symmetric, one scale per output channel:
    /// values in `-L..=L` with `L = 2^(bits-1) - 1`, stored in int8 all the same (the file is
    /// sent compressed, and the compressor codes the fewer levels in fewer bits).
    ///
    /// At 8 bits the scale is the channel's largest magnitude over 127. Below, each channel's
    /// range is clipped where that gives the least squared error (of 64 candidates down to a
    /// quarter of the largest magnitude): with few levels, the rare large weights cost less
    /// than a coarse step for all the others. A channel of zeros gets scale 1.
    pub fn new(layer: &ConvWeights, bits: u32) -> Self {
        assert!((2..=8).contains(&bits), "2 to 8 bits, not {bits}");
        let levels = ((1u32 << (bits - 1)) - 1) as f32;
        let per_out = layer.in_channels * 9;
        let quantize = |w: f32, scale: f32| (w / scale).round().clamp(-levels, levels);
        let scale: Vec<f32> = layer
            .weight
            .chunks(per_out)
            .map(|w| {
                let max = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                if max == 0.0 {
                    return 1.0;
                }
                if bits == 8 {
                    return max / levels;
                }
                let error = |scale: f32| -> f64 {
                    w.iter()
                        .map(|&v| f64::from(quantize(v, scale) * scale - v).powi(2))
                        .sum()
                };
                (0..64)
                    .map(|k| max * (1.0 - 0.75 * k as f32 / 64.0) / levels)
                    .map(|scale| (error(scale), scale))
                    .min_by(|a, b| a.0.total_cmp(&b.0))
                    .expect("64 candidates")
                    .1
            })
            .collect();
        let weight = layer
            .weight
            .iter()
            .enumerate()
            .map(|(i, &w)| quantize(w, scale[i / per_out]) as i8)
            .collect();
        Self {
            weight,
            scale,
            bias: layer.bias.clone(),
            in_channels: layer.in_channels,
            out_channels: layer.out_channels,
            kernel_size: 3,
        }
    }
}

/// Writes an int8 weight file in a byte-for-byte reproducible form (sorted header keys):
/// `<name>.weight`, `<name>.weight_scale` and `<name>.bias` for each named layer.
///
/// `metadata` lands in the safetensors `__metadata__` table.
pub fn write_int8_safetensors<'a>(
    layers: impl IntoIterator<Item = (&'a str, &'a QuantizedConv)>,
    metadata: &[(&str, &str)],
) -> Vec<u8> {
    use std::collections::BTreeMap;
    use std::fmt::Write;

    // Tensors in name order; offsets follow that order.
    let mut tensors: BTreeMap<String, (&str, Vec<usize>, Vec<u8>)> = BTreeMap::new();
    for (name, layer) in layers {
        let weight = layer.weight.iter().map(|&v| v as u8).collect();
        tensors.insert(
            format!("{name}.weight"),
            ("I8", layer.shape().to_vec(), weight),
        );
        let o = layer.out_channels;
        tensors.insert(
            format!("{name}.weight_scale"),
            ("F32", vec![o], le_bytes(&layer.scale)),
        );
        tensors.insert(
            format!("{name}.bias"),
            ("F32", vec![o], le_bytes(&layer.bias)),
        );
    }
    let json = |s: &str| format!("{s:?}");
    let mut header = String::from("{\"__metadata__\":{");
    let mut meta: Vec<_> = metadata.to_vec();
    meta.sort();
    let meta: Vec<String> = meta
        .iter()
        .map(|(k, v)| format!("{}:{}", json(k), json(v)))
        .collect();
    header.push_str(&meta.join(","));
    header.push('}');
    let mut offset = 0;
    for (name, (dtype, shape, data)) in &tensors {
        let shape: Vec<String> = shape.iter().map(usize::to_string).collect();
        write!(
            header,
            ",{}:{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
            json(name),
            shape.join(","),
            offset + data.len()
        )
        .expect("writing to a String cannot fail");
        offset += data.len();
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for (_, _, data) in tensors.values() {
        out.extend_from_slice(data);
    }
    out
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use safetensors::SafeTensors;

    use super::*;
    use crate::test_util::synthetic_vgg as synthetic;
    use crate::weights::CONV_LAYERS;

    #[test]
    fn quantize_write_read_round_trip_is_within_half_a_step() {
        let float = synthetic();
        let q = float.quantize(&[8; 11]);
        let bytes = write_int8_safetensors(CONV_LAYERS.into_iter().zip(&q), &[("source", "test")]);
        let back = VggWeights::from_int8_safetensors(&bytes).unwrap();
        for ((f, b), q) in float.layers.iter().zip(&back.layers).zip(&q) {
            assert_eq!(f.bias, b.bias);
            let per_out = f.in_channels * 9;
            for (i, (x, y)) in f.weight.iter().zip(&b.weight).enumerate() {
                let step = q.scale[i / per_out];
                assert!((x - y).abs() <= 0.5 * step + 1e-7, "{x} vs {y}");
            }
        }
        let meta = SafeTensors::read_metadata(&bytes).unwrap().1;
        assert_eq!(meta.metadata().as_ref().unwrap()["source"], "test");
    }

    #[test]
    fn fewer_bits_use_fewer_levels_and_clip_where_that_helps() {
        // A Laplace-like kernel: many small weights and a few large ones, as in VGG16.
        let weight: Vec<f32> = (0..64 * 9)
            .map(|i| {
                let u = (i * 37 % 577) as f32 / 577.0 - 0.5;
                -u.signum() * (1.0 - 2.0 * u.abs()).max(1e-3).ln() * 0.01
            })
            .collect();
        let layer = ConvWeights {
            weight: weight.clone(),
            bias: vec![0.0],
            in_channels: 64,
            out_channels: 1,
        };
        let max = weight.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let error = |q: &QuantizedConv| -> f32 {
            q.dequantized()
                .iter()
                .zip(&weight)
                .map(|(a, b)| (a - b).powi(2))
                .sum()
        };
        let mut previous = 0.0;
        for bits in [8, 6, 5, 4] {
            let q = QuantizedConv::new(&layer, bits);
            let levels = (1i8 << (bits - 1)) - 1;
            assert!(
                q.weight.iter().all(|v| (-levels..=levels).contains(v)),
                "{bits} bits"
            );
            assert!(error(&q) > previous, "fewer bits, more error");
            previous = error(&q);
            if bits < 8 {
                // The chosen clip beats the plain largest-magnitude scale.
                let plain = QuantizedConv {
                    weight: weight
                        .iter()
                        .map(|w| (w / (max / levels as f32)).round() as i8)
                        .collect(),
                    scale: vec![max / levels as f32],
                    ..q.clone()
                };
                assert!(q.scale[0] < plain.scale[0], "{bits} bits: clipped");
                assert!(error(&q) < error(&plain), "{bits} bits");
            }
        }
    }

    #[test]
    fn bit_widths_are_eleven_from_2_to_8() {
        assert_eq!(parse_bits("8,8,8,8,6,6,6,5,5,5,5"), Ok(VGG_BITS));
        for bad in [
            "8,8",
            "8,8,8,8,6,6,6,5,5,5,1",
            "8,8,8,8,6,6,6,5,5,5,9",
            "8,x",
        ] {
            assert!(parse_bits(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn writing_is_deterministic() {
        let q = synthetic().quantize(&[8; 11]);
        let meta = [("b", "2"), ("a", "1")];
        assert_eq!(
            write_int8_safetensors(CONV_LAYERS.into_iter().zip(&q), &meta),
            write_int8_safetensors(CONV_LAYERS.into_iter().zip(&q), &meta)
        );
    }
}
