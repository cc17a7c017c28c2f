//! Options from outside at random, through the one options path: objects of the real keys
//! (from [`super::options`]) given wrong types, extreme numbers, NaN and the infinities as
//! strings, huge arrays, deep nesting, unknown keys and `null`. Each is accepted (and then
//! valid), or refused with an [`OptionsError`] that names a key the object holds; never a
//! panic.

use serde_json::{Value, json};

use super::options;
use crate::device::DeviceKind;
use crate::options::{OptionsError, StyleOptions};
use crate::test_util::{Random, no_panic};

/// Numbers at and past every limit, and past what `f32`, `u32` and `u64` hold.
fn number(random: &mut Random) -> Value {
    random.pick(&[
        json!(0),
        json!(1),
        json!(-1),
        json!(0.5),
        json!(-0.0),
        json!(1.05),
        json!(4.0),
        json!(0.99),
        json!(16),
        json!(15),
        json!(384),
        json!(4096),
        json!(4097),
        json!(100_000),
        json!(100_001),
        json!(1 << 20),
        json!((1 << 20) + 1),
        json!(1e308),
        json!(-1e308),
        json!(5e-324),
        json!(1e-46),
        json!(f64::from(f32::MAX)),
        json!(3.5e38),
        json!(1e39),
        json!(u32::MAX),
        json!(u64::from(u32::MAX) + 1),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1u64 << 53),
        json!((1u64 << 53) + 1),
    ])
}

/// Strings: numbers written out, the enums' names, none of them.
fn string(random: &mut Random) -> Value {
    let long = "x".repeat(10_000);
    json!(random.pick(&[
        "NaN",
        "-NaN",
        "Infinity",
        "-Infinity",
        "inf",
        "1e400",
        "",
        "0",
        "16",
        "true",
        "null",
        "relu1_1",
        "relu9_9",
        "lbfgs",
        "adam",
        "photo",
        "fast",
        "coarse-to-fine",
        "lanczos3",
        "é",
        "\0",
        long.as_str(),
    ]))
}

/// `leaf` inside `depth` arrays or objects.
fn nested(random: &mut Random, depth: usize, leaf: Value) -> Value {
    let object = random.chance(50);
    (0..depth).fold(leaf, |inner, _| match object {
        true => json!({ "a": inner }),
        false => json!([inner]),
    })
}

/// Style-layer lists: well formed or not, short or ten thousand long.
fn layers(random: &mut Random) -> Value {
    let count = random.pick(&[0, 1, 2, 5]);
    let entries: Vec<Value> = (0..count)
        .map(|_| {
            let layer = match random.chance(80) {
                true => json!(random.pick(&["relu1_1", "relu3_1", "relu5_1", "conv1_1"])),
                false => string(random),
            };
            let weight = match random.chance(60) {
                true => json!(random.pick(&[0.0, 0.5, 1.0])),
                false => wild(random, 1),
            };
            match random.below(8) {
                0 => json!([layer]),
                1 => json!([layer, weight, weight]),
                2 => json!([weight, layer]),
                3 => json!({ "0": layer, "1": weight }),
                _ => json!([layer, weight]),
            }
        })
        .collect();
    match random.chance(5) {
        true => json!(vec![json!(["relu1_1", 1]); 10_000]),
        false => Value::Array(entries),
    }
}

/// Any value, of any type, `depth` levels from the top.
fn wild(random: &mut Random, depth: usize) -> Value {
    match random.below(20) {
        0..=5 => number(random),
        6..=9 => string(random),
        10 => json!(random.chance(50)),
        11 => Value::Null,
        12..=13 => layers(random),
        14 if depth < 3 => {
            let len = random.below(4);
            Value::Array((0..len).map(|_| wild(random, depth + 1)).collect())
        }
        15 if depth < 3 => {
            let key = unknown_key(random);
            json!({ key: wild(random, depth + 1) })
        }
        16 => {
            let depth = random.pick(&[2, 10, 127, 200]);
            let leaf = number(random);
            nested(random, depth, leaf)
        }
        _ => json!({}),
    }
}

/// Keys that are not options: misspelt, renamed, in another case, odd.
fn unknown_key(random: &mut Random) -> String {
    random
        .pick(&[
            "styleWieght",
            "preserveColors",
            "preserveColorsX",
            "",
            ".",
            "?",
            "[0]",
            "size ",
            "Size",
            "__proto__",
            "constructor",
            "size.width",
            "style_layers",
            "content_weight",
            "é",
            "\0",
            "🎨",
        ])
        .to_string()
}

/// Whether `name` (an error's option, a path such as `styleLayers[0][1]`) is one of `keys`
/// or inside one.
fn names_one_of(name: &str, keys: &[&String]) -> bool {
    keys.iter()
        .any(|key| match name.strip_prefix(key.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with(['[', '.']),
            None => false,
        })
}

/// Checks one outcome of the options path for the object whose keys are `keys`.
#[track_caller]
fn check(what: &str, keys: &[&String], result: &Result<StyleOptions, OptionsError>) {
    match result {
        Ok(options) => {
            if let Err(e) = options.validate() {
                panic!("{what}: accepted, yet invalid: {e}");
            }
        }
        Err(e) => {
            assert!(
                names_one_of(&e.name, keys),
                "{what}: {e} names none of {keys:?}"
            );
            assert!(!e.reason.is_empty(), "{what}: {e}");
            assert!(
                e.to_string().contains(&format!("`{}`", e.name)),
                "{what}: {e}"
            );
        }
    }
}

/// Random objects through every way the options come in: a JSON value over the device's
/// defaults (the browser and the CLI), the same without defaults, and their text, both as
/// the callers read it (a value first) and straight from serde_json's reader.
#[test]
fn random_objects_are_accepted_or_name_a_key_they_hold() {
    const SEED: u64 = 0x0b7e;
    let mut random = Random::new(SEED);
    let real: Vec<String> = match serde_json::to_value(StyleOptions::default()).unwrap() {
        Value::Object(object) => object.keys().cloned().collect(),
        _ => unreachable!("options serialize to an object"),
    };
    let defaults = [
        StyleOptions::defaults_for(DeviceKind::Cpu),
        StyleOptions::defaults_for(DeviceKind::Gpu),
    ];
    let (mut accepted, mut refused, mut unreadable) = (0, 0, 0);
    for case in 0..3000 {
        let Value::Object(mut object) = options(&mut random) else {
            unreachable!("an object");
        };
        for _ in 0..random.below(4) {
            let key = match random.chance(75) {
                true => random.pick(&real),
                false => unknown_key(&mut random),
            };
            match random.chance(90) {
                true => object.insert(key, wild(&mut random, 0)),
                false => object.remove(&key),
            };
        }
        let keys: Vec<&String> = object.keys().collect();
        let value = Value::Object(object.clone());
        let text = value.to_string();
        let what = format!("seed {SEED:#x}, case {case}: {:.300}", text);
        let defaults = &defaults[case % 2];
        no_panic(&what, || {
            let over = StyleOptions::deserialize_validated_over(defaults, value.clone());
            check(&what, &keys, &over);
            match over {
                Ok(_) => accepted += 1,
                Err(_) => refused += 1,
            }
            let plain = StyleOptions::deserialize_validated(value.clone());
            check(&what, &keys, &plain);
            // The callers' way with text: a value first (which refuses nesting past 128).
            match serde_json::from_str::<Value>(&text) {
                Ok(read) => {
                    // serde_json may read a float back an ulp apart: compare the outcomes.
                    let again = StyleOptions::deserialize_validated_over(defaults, read);
                    check(&what, &keys, &again);
                    let name =
                        |r: &Result<StyleOptions, OptionsError>| r.clone().err().map(|e| e.name);
                    assert_eq!(
                        name(&again),
                        name(&over),
                        "{what}: the text gives another outcome"
                    );
                }
                Err(e) => {
                    let deep = |open: &str| text.contains(&open.repeat(120));
                    assert!(deep("[") || deep("{\"a\":"), "{what}: {e}");
                    unreadable += 1;
                }
            }
            let reader = &mut serde_json::Deserializer::from_str(&text);
            let direct = StyleOptions::deserialize_validated(reader);
            check(&what, &keys, &direct);
            assert_eq!(
                direct.is_ok(),
                plain.is_ok(),
                "{what}: {direct:?} {plain:?}"
            );
        });
    }
    println!("{accepted} accepted, {refused} refused, {unreadable} too deep to read");
    assert!(
        accepted >= 300 && refused >= 300,
        "{accepted} accepted, {refused} refused"
    );
}

/// Values that are not objects, and text that is not JSON or breaks the reader: refused,
/// naming `options` or a key the text holds.
#[test]
fn what_is_not_an_object_of_options_is_refused() {
    for value in [
        Value::Null,
        json!(42),
        json!("size"),
        json!([]),
        json!([{"size": 16}]),
        json!(true),
    ] {
        let what = value.to_string();
        let over = no_panic(&what, || {
            StyleOptions::deserialize_validated_over(&StyleOptions::default(), value.clone())
        });
        assert_eq!(
            over.map_err(|e| e.name),
            Err("options".to_string()),
            "{what}"
        );
        // Without the defaults, serde's derive also reads a sequence, as the fields in
        // order (`[16]` is `{"size": 16}`); the callers give objects alone.
        if !value.is_array() {
            let plain = no_panic(&what, || StyleOptions::deserialize_validated(value.clone()));
            assert_eq!(
                plain.map_err(|e| e.name),
                Err("options".to_string()),
                "{what}"
            );
        }
    }
    let deep = format!("{{\"size\": {}16{}}}", "[".repeat(200), "]".repeat(200));
    let deeper = format!("{{\"x\": {}}}", "{\"a\":".repeat(200));
    for text in [
        "",
        "   ",
        "{",
        "{\"size\": NaN}",
        "{\"contentWeight\": Infinity}",
        "{\"contentWeight\": -Infinity}",
        "{\"size\": 1e400}",
        "{\"size\": 0x10}",
        "{\"size\": 16,}",
        "{'size': 16}",
        "{\"size\": 16} // comment",
        "{\"size\": 16, \"size\": 32}",
        "{\"styleLayers\": [[\"relu1_1\", 1],]}",
        "\u{feff}{}",
        "{\"size\": 16}{\"size\": 32}",
        &deep,
        &deeper,
    ] {
        let what = format!("{text:.80}");
        let direct = no_panic(&what, || {
            StyleOptions::deserialize_validated(&mut serde_json::Deserializer::from_str(text))
        });
        let read = serde_json::from_str::<Value>(text);
        let over = read.as_ref().ok().map(|value| {
            no_panic(&what, || {
                StyleOptions::deserialize_validated_over(&StyleOptions::default(), value.clone())
            })
        });
        println!("{what}: read {read:?}; over {over:?}; direct {direct:?}");
        for result in [Some(direct), over].into_iter().flatten() {
            if let Err(e) = result {
                let key = e.name.split(['[', '.']).next().unwrap();
                let named = e.name == "options" || text.contains(&format!("\"{key}\""));
                assert!(named, "{what}: {e}");
            }
        }
    }
}
