//! The weight files' readers against broken files: small synthetic ones, and the committed
//! files mutated at random (the header's length, its JSON, the tensors' types, shapes and
//! offsets, truncation, flipped bytes): every case an error or the very same weights, never
//! a panic.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::*;
use crate::fast::{FastNetwork, FastWeights};
use crate::quantize::write_int8_safetensors;
use crate::test_util::{Random, cpu, no_panic, root, synthetic_vgg as synthetic};

#[test]
fn truncated_or_foreign_files_are_errors() {
    let bytes = write_int8_safetensors(
        CONV_LAYERS.into_iter().zip(&synthetic().quantize(&[8; 11])),
        &[],
    );
    for cut in [0, 4, 100, bytes.len() / 2, bytes.len() - 1] {
        assert!(matches!(
            VggWeights::from_int8_safetensors(&bytes[..cut]),
            Err(WeightsError::Container(_))
        ));
    }
    assert!(VggWeights::from_int8_safetensors(b"\x89PNG\r\n\x1a\n not weights").is_err());
}

#[test]
fn a_missing_or_misshapen_tensor_is_named() {
    let mut q = synthetic().quantize(&[8; 11]);
    q.truncate(10);
    let bytes = write_int8_safetensors(CONV_LAYERS.into_iter().zip(&q), &[]);
    assert_eq!(
        VggWeights::from_int8_safetensors(&bytes),
        Err(WeightsError::Missing("conv5_1.weight".into()))
    );
}

/// One tensor of a weight file, as its header lists it.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    dtype: String,
    shape: Vec<u64>,
    /// Byte range in the data section.
    offsets: (usize, usize),
}

/// A committed weight file with room for a longer header: each case changes it in place and
/// puts it back, so that no case copies the megabytes of data.
struct Mutable {
    bytes: Vec<u8>,
    /// The header as written (its JSON, then the padding the room adds).
    header: Vec<u8>,
    /// Length of the original header's JSON with its own padding.
    original_len: usize,
    json: Map<String, Value>,
    /// In data order.
    tensors: Vec<Entry>,
}

/// Spaces added to the header, so that most changed headers fit in place.
const ROOM: usize = 1024;

impl Mutable {
    fn read(name: &str) -> Self {
        let file = std::fs::read(root().join("models").join(name)).expect("weights");
        let n = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
        let json: Map<String, Value> = serde_json::from_slice(&file[8..8 + n]).unwrap();
        let mut tensors: Vec<Entry> = json
            .iter()
            .filter(|(name, _)| *name != "__metadata__")
            .map(|(name, info)| Entry {
                name: name.clone(),
                dtype: info["dtype"].as_str().unwrap().to_string(),
                shape: info["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap())
                    .collect(),
                offsets: (
                    info["data_offsets"][0].as_u64().unwrap() as usize,
                    info["data_offsets"][1].as_u64().unwrap() as usize,
                ),
            })
            .collect();
        tensors.sort_by_key(|t| t.offsets);
        let mut header = file[8..8 + n].to_vec();
        header.resize(n + ROOM, b' ');
        let mut bytes = Vec::with_capacity(file.len() + ROOM);
        bytes.extend((header.len() as u64).to_le_bytes());
        bytes.extend(&header);
        bytes.extend(&file[8 + n..]);
        Self {
            bytes,
            header,
            original_len: n,
            json,
            tensors,
        }
    }

    /// Where the tensors' data starts.
    fn data_start(&self) -> usize {
        8 + self.header.len()
    }

    /// Runs `load` on the file after `change`, then restores the file.
    fn with<R>(&mut self, change: &Change, load: impl FnOnce(&[u8]) -> R) -> R {
        match change {
            Change::Bytes { at, new } => {
                let range = *at..*at + new.len();
                let old = self.bytes[range.clone()].to_vec();
                self.bytes[range.clone()].copy_from_slice(new);
                let result = load(&self.bytes);
                self.bytes[range].copy_from_slice(&old);
                result
            }
            Change::Truncate(len) => load(&self.bytes[..*len]),
            Change::Append(extra) => {
                let len = self.bytes.len();
                self.bytes.extend(extra);
                let result = load(&self.bytes);
                self.bytes.truncate(len);
                result
            }
            Change::Header(header) if header.len() <= self.header.len() => {
                let region = &mut self.bytes[8..8 + self.header.len()];
                region[..header.len()].copy_from_slice(header);
                region[header.len()..].fill(b' ');
                let result = load(&self.bytes);
                self.bytes[8..8 + self.header.len()].copy_from_slice(&self.header);
                result
            }
            Change::Header(header) => {
                let data = &self.bytes[self.data_start()..];
                let mut copy = Vec::with_capacity(8 + header.len() + data.len());
                copy.extend((header.len() as u64).to_le_bytes());
                copy.extend(header);
                copy.extend(data);
                load(&copy)
            }
        }
    }
}

/// A change to a weight file.
enum Change {
    /// `new` written at `at`.
    Bytes { at: usize, new: Vec<u8> },
    /// The first `len` bytes alone.
    Truncate(usize),
    /// Bytes after the end.
    Append(Vec<u8>),
    /// Another header (JSON or not), with the header length to match.
    Header(Vec<u8>),
}

/// What a reader must make of a changed file.
#[derive(Debug)]
enum Expect {
    /// Not a safetensors file: [`WeightsError::Container`].
    Container,
    /// Some error.
    Refused,
    /// This tensor is missing.
    Missing(String),
    /// This tensor holds a value that is not finite.
    NotFinite(String),
    /// The very weights of the original file.
    Same,
    /// An error, or the very weights.
    ErrorOrSame,
    /// Changed data in this tensor: any weights, or (an `F32` one) not finite.
    DataChanged(String),
}

/// What a reader made of a file.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// The original weights.
    Same,
    /// Other weights, which build a network.
    Changed,
}

/// Dtypes to swap in: safetensors' own (of every width) and strings and values it does not
/// know.
fn dtypes() -> Vec<Value> {
    let names = [
        "BOOL", "F4", "F6_E2M3", "F8_E4M3", "F8_E5M2", "F8_E8M0", "U8", "I8", "I16", "U16", "F16",
        "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64", "i8", "f32", "", "Q4_0",
    ];
    let mut values: Vec<Value> = names.iter().map(|n| json!(n)).collect();
    values.extend([json!(8), Value::Null, json!(["I8"]), json!({"I8": 1})]);
    values
}

/// Shapes to swap in for `shape`: empty, zeroed, grown, overflowing, negative, of the wrong
/// type, permuted, flattened or given another rank with the same number of elements.
fn shapes(shape: &[u64]) -> Vec<Value> {
    let count: u64 = shape.iter().product();
    let mut grown = shape.to_vec();
    grown[0] *= 2;
    let mut plus_one = shape.to_vec();
    *plus_one.last_mut().unwrap() += 1;
    let mut reversed = shape.to_vec();
    reversed.reverse();
    let mut rotated = shape.to_vec();
    rotated.rotate_left(1);
    let mut trailing_one = shape.to_vec();
    trailing_one.push(1);
    let mut values = vec![
        json!([]),
        json!([0]),
        json!(vec![0; shape.len()]),
        json!(grown),
        json!(plus_one),
        json!(trailing_one),
        json!([count]),
        json!([1, count]),
        json!(vec![u64::MAX; 4]),
        json!(vec![1u64 << 32; 3]),
        json!([1u64 << 62, 4]),
        json!([count, 1u64 << 40, 0]),
        json!([-1, count]),
        json!([count as f64 + 0.5]),
        json!([count.to_string()]),
        json!(count),
        Value::Null,
        json!({}),
        json!(reversed),
        json!(rotated),
    ];
    if let [out, rest @ ..] = shape
        && rest.len() == 3
    {
        values.push(json!([out, rest.iter().product::<u64>(), 1, 1]));
    }
    values.retain(|v| *v != json!(shape));
    values
}

/// Offsets to swap in for `(start, end)` in a data section of `len` bytes: past the end,
/// reversed, overlapping, empty, overflowing, negative, of the wrong type.
fn offsets((start, end): (usize, usize), len: usize) -> Vec<Value> {
    let (s, e) = (start as u64, end as u64);
    let mut values = vec![
        json!([s, e + 1]),
        json!([s + 1, e]),
        json!([s.saturating_sub(1), e]),
        json!([e, s]),
        json!([s, s]),
        json!([0, e]),
        json!([s, len as u64 + 1]),
        json!([s, 2 * len as u64]),
        json!([u64::MAX - 1, u64::MAX]),
        json!([s, u64::MAX]),
        json!([-1, e]),
        json!([s]),
        json!([s, e, e]),
        json!([s as f64 + 0.5, e]),
        json!([s.to_string(), e]),
        json!("0-1"),
        Value::Null,
    ];
    values.retain(|v| *v != json!([s, e]));
    values
}

/// JSON that is not a header at all, or breaks the parser: every one refused.
fn not_headers(random: &mut Random, json: &[u8]) -> Vec<Vec<u8>> {
    let cut = random.below(json.len() - 1);
    let mut invalid_utf8 = json.to_vec();
    invalid_utf8[8 + random.below(json.len() - 8)] = random.pick(&[0xff, 0xc3, 0x80, 0xfe]);
    let mut nul = json.to_vec();
    nul[1 + random.below(json.len() - 2)] = 0;
    vec![
        json[..cut].to_vec(),
        invalid_utf8,
        nul,
        b"".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"[]".to_vec(),
        b"null".to_vec(),
        b"1".to_vec(),
        b"\"weights\"".to_vec(),
        b"{}".to_vec(),
        b"\xef\xbb\xbf{}".to_vec(),
        format!("{}{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
        format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200)).into_bytes(),
        format!("{{\"a\":{}}}", "[".repeat(100_000)).into_bytes(),
    ]
}

/// `file`'s header after `edit`.
fn edited(file: &Mutable, edit: impl FnOnce(&mut Map<String, Value>)) -> Change {
    let mut header = file.json.clone();
    edit(&mut header);
    Change::Header(serde_json::to_vec(&header).unwrap())
}

/// Shapes of no elements whose sides are far beyond memory.
fn huge_empty_shapes() -> [Value; 3] {
    [
        json!([0, 1u64 << 40, 3, 3]),
        json!([0, u64::MAX, u64::MAX, u64::MAX]),
        json!([0, 1u64 << 40, 1u64 << 40, 1u64 << 40]),
    ]
}

/// `file` with one more convolution, `huge`, of no values and sides `shape` (the readers
/// must not allocate for the sides), and a field safetensors does not know in `entry`.
fn with_huge_convolution(file: &Mutable, shape: &Value, entry: &Entry) -> Change {
    let end = (file.bytes.len() - file.data_start()) as u64;
    let empty = |dtype: &str, shape: &Value| json!({"dtype": dtype, "shape": shape, "data_offsets": [end, end]});
    edited(file, |h| {
        h.insert("huge.weight".into(), empty("I8", shape));
        h.insert("huge.weight_scale".into(), empty("F32", &json!([0])));
        h.insert("huge.bias".into(), empty("F32", &json!([0])));
        h[&entry.name]["comment"] = json!("an unknown field");
    })
}

/// A random change to `file`.
fn case(random: &mut Random, file: &Mutable) -> (Change, String, Expect) {
    let json_len = file.original_len;
    let len = file.bytes.len();
    let data_len = len - file.data_start();
    let entry = random.pick(&file.tensors);
    let with = |edit: &dyn Fn(&mut Map<String, Value>)| edited(file, edit);
    match random.below(100) {
        0..=9 => {
            let n = file.header.len() as u64;
            let (any, inside) = (random.bits(), random.below(len) as u64);
            let value = random.pick(&[
                0,
                1,
                7,
                n - 1,
                n + 1,
                n + 8,
                len as u64 - 8,
                len as u64,
                100_000_000,
                100_000_001,
                1 << 32,
                1 << 63,
                u64::MAX,
                any,
                inside,
            ]);
            let value = if value == n { n + 2 } else { value };
            let change = Change::Bytes {
                at: 0,
                new: value.to_le_bytes().to_vec(),
            };
            (change, format!("header length {value}"), Expect::Container)
        }
        10..=19 => {
            let cut = match random.chance(50) {
                true => random.below(8 + json_len + 64),
                false => random.below(len),
            };
            let what = format!("truncated to {cut} of {len} bytes");
            (Change::Truncate(cut), what, Expect::Container)
        }
        20..=44 => {
            let at = random.below(8 + json_len);
            let mask = 1 + random.below(255) as u8;
            let change = Change::Bytes {
                at,
                new: vec![file.bytes[at] ^ mask],
            };
            let what = format!("byte {at} of the header ^ {mask:#04x}");
            let expect = match at < 8 {
                true => Expect::Container,
                false => Expect::ErrorOrSame,
            };
            (change, what, expect)
        }
        45..=47 => {
            let at = file.data_start() + random.below(data_len);
            let mask = 1 + random.below(255) as u8;
            let offset = at - file.data_start();
            let entry = file
                .tensors
                .iter()
                .find(|t| (t.offsets.0..t.offsets.1).contains(&offset))
                .unwrap();
            let change = Change::Bytes {
                at,
                new: vec![file.bytes[at] ^ mask],
            };
            let what = format!("data byte {offset} ({}) ^ {mask:#04x}", entry.name);
            (change, what, Expect::DataChanged(entry.name.clone()))
        }
        48..=54 => {
            let floats: Vec<&Entry> = file.tensors.iter().filter(|t| t.dtype == "F32").collect();
            let entry = random.pick(&floats);
            let index = random.below((entry.offsets.1 - entry.offsets.0) / 4);
            let value = random.pick(&[f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
            let change = Change::Bytes {
                at: file.data_start() + entry.offsets.0 + 4 * index,
                new: value.to_le_bytes().to_vec(),
            };
            let what = format!("{}[{index}] = {value}", entry.name);
            (change, what, Expect::NotFinite(entry.name.clone()))
        }
        55..=62 => {
            let dtype = random.pick(&dtypes());
            let dtype = match dtype == json!(entry.dtype) {
                true => json!("I64"),
                false => dtype,
            };
            let change = with(&|h| h[&entry.name]["dtype"] = dtype.clone());
            let what = format!("{} dtype {dtype}", entry.name);
            (change, what, Expect::Refused)
        }
        63..=72 => {
            let shape = random.pick(&shapes(&entry.shape));
            let change = with(&|h| h[&entry.name]["shape"] = shape.clone());
            let what = format!("{} {:?} shape {shape}", entry.name, entry.shape);
            (change, what, Expect::Refused)
        }
        73..=79 => {
            let offsets = random.pick(&offsets(entry.offsets, data_len));
            let change = with(&|h| h[&entry.name]["data_offsets"] = offsets.clone());
            let what = format!("{} {:?} offsets {offsets}", entry.name, entry.offsets);
            (change, what, Expect::Container)
        }
        80..=84 => {
            let new = format!(
                "{}{}",
                entry.name,
                random.pick(&["~", ".old", " ", "é", "\0"])
            );
            let change = with(&|h| {
                let info = h.remove(&entry.name).unwrap();
                h.insert(new.clone(), info);
            });
            let what = format!("{} renamed {new:?}", entry.name);
            (change, what, Expect::Missing(entry.name.clone()))
        }
        85..=86 => {
            let change = with(&|h| {
                h.remove(&entry.name);
            });
            (change, format!("{} removed", entry.name), Expect::Container)
        }
        87..=91 => {
            let huge = random.pick(&huge_empty_shapes());
            let (key, value, expect) = match random.below(8) {
                0 => ("__metadata__", json!({"bits": 8}), Expect::Container),
                1 => ("__metadata__", json!("int8"), Expect::Container),
                2 => ("__metadata__", json!({}), Expect::Same),
                3 => (
                    "__metadata__",
                    json!({"note": "é".repeat(5_000)}),
                    Expect::Same,
                ),
                4 => {
                    let junk = random.pick(&[json!(1), json!("x"), json!([]), Value::Null]);
                    ("junk", junk, Expect::Container)
                }
                5 => ("junk.weight", json!({"dtype": "I8"}), Expect::Container),
                6 => {
                    let info = json!({"dtype": "I8", "shape": huge, "data_offsets": [0, 1]});
                    ("junk.weight", info, Expect::Container)
                }
                _ => {
                    let change = with_huge_convolution(file, &huge, &entry);
                    let what = format!("an empty convolution {huge}, a field in {}", entry.name);
                    return (change, what, Expect::Same);
                }
            };
            let change = with(&|h| {
                h.insert(key.into(), value.clone());
            });
            let value: String = value.to_string().chars().take(60).collect();
            (change, format!("{key}: {value}"), expect)
        }
        92..=93 => {
            let change = with(&|h| {
                h.remove("__metadata__");
            });
            (change, "no metadata".into(), Expect::Same)
        }
        _ => {
            let headers = not_headers(random, &file.header[..json_len]);
            let index = random.below(headers.len());
            let header = headers[index].clone();
            let what = format!(
                "header {index} of the broken ones: {:.80}",
                String::from_utf8_lossy(&header)
            );
            (Change::Header(header), what, Expect::Container)
        }
    }
}

/// Reads `file` mutated `cases_count` times (after a few fixed cases) with `load`, which tells
/// the original weights from others, and checks each outcome against its expectation.
fn mutate(
    name: &str,
    seed: u64,
    cases_count: usize,
    load: impl Fn(&[u8]) -> Result<Outcome, WeightsError>,
) {
    let mut file = Mutable::read(name);
    let mut random = Random::new(seed);
    assert_eq!(load(&file.bytes), Ok(Outcome::Same), "{name} with room");
    let mut cases = vec![
        (Change::Truncate(0), "empty".into(), Expect::Container),
        (Change::Truncate(7), "7 bytes".into(), Expect::Container),
        (
            Change::Append(vec![0]),
            "a byte appended".into(),
            Expect::Container,
        ),
        (
            Change::Append(vec![b' '; 8]),
            "8 spaces appended".into(),
            Expect::Container,
        ),
    ];
    for shape in huge_empty_shapes() {
        let change = with_huge_convolution(&file, &shape, &file.tensors[0]);
        cases.push((
            change,
            format!("an empty convolution {shape}"),
            Expect::Same,
        ));
    }
    for (_, what, _) in &mut cases {
        *what = format!("{name}: {what}");
    }
    cases.extend((0..cases_count).map(|i| {
        let (change, what, expect) = case(&mut random, &file);
        let what = format!("{name}, seed {seed:#x}, case {i}: {what}");
        (change, what, expect)
    }));
    // Only a header, and no tensors: a file, but not of this network.
    let empty = [&8u64.to_le_bytes()[..], b"{}      "].concat();
    assert!(load(&empty).is_err(), "{name}: a file without tensors");
    let mut tally: HashMap<String, usize> = HashMap::new();
    for (change, what, expect) in &cases {
        let what = format!("{what} (expected {expect:?})");
        let result = no_panic(&what, || file.with(change, &load));
        let ok = match (expect, &result) {
            (Expect::Container, Err(WeightsError::Container(_))) => true,
            (Expect::Refused, Err(_)) => true,
            (Expect::Missing(name), Err(WeightsError::Missing(missing))) => name == missing,
            (Expect::NotFinite(name), Err(WeightsError::NotFinite(bad))) => name == bad,
            (Expect::Same | Expect::ErrorOrSame, Ok(Outcome::Same)) => true,
            (Expect::ErrorOrSame, Err(_)) => true,
            (Expect::DataChanged(_), Ok(_)) => true,
            (Expect::DataChanged(name), Err(WeightsError::NotFinite(bad))) => name == bad,
            _ => false,
        };
        assert!(ok, "{what}: {result:?}");
        let kind = match &result {
            Ok(outcome) => format!("{outcome:?}"),
            Err(e) => format!("{e:?}")
                .split(['(', ' '])
                .next()
                .unwrap()
                .to_string(),
        };
        *tally.entry(kind).or_default() += 1;
    }
    let mut tally: Vec<_> = tally.into_iter().collect();
    tally.sort();
    println!("{name}: {} cases: {tally:?}", cases.len());
}

/// The VGG16 weights: the same, or an error.
#[test]
fn a_mutated_vgg_file_is_an_error_or_the_same_weights() {
    let original = crate::test_util::int8_weights();
    mutate("vgg16-int8.safetensors", 0x5afe, 250, |bytes| {
        VggWeights::from_int8_safetensors(bytes).map(|w| match w == original {
            true => Outcome::Same,
            false => Outcome::Changed,
        })
    });
}

/// The feed-forward network's weights: the same, an error from the file, or an error from
/// building the network (a convolution it needs is gone or misshapen).
#[test]
fn a_mutated_fast_file_is_an_error_or_the_same_weights() {
    let original = crate::test_util::fast_weights();
    mutate("fast-int8.safetensors", 0xfa57, 600, |bytes| {
        let weights = FastWeights::from_int8_safetensors(bytes)?;
        let read: HashMap<&str, &QuantizedConv> = weights.convs().collect();
        let all_there = original
            .convs()
            .all(|(name, conv)| read.get(name) == Some(&conv));
        match all_there {
            true => Ok(Outcome::Same),
            false => FastNetwork::new(&weights, &cpu()).map(|_| Outcome::Changed),
        }
    });
}
