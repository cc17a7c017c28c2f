//! Every option object that validates runs: random objects through the one options path
//! (JSON, as the CLI and the browser send them), and each one that validates is run for a
//! step or two at a small size on the CPU backend. A panic anywhere fails the test; before it,
//! `{styleWeight: 0, styleLayers: []}` validated and then panicked in the objective.

mod common;

use std::ops::ControlFlow;

use common::*;
use serde_json::{Map, Value, json};
use style_transfer::{StyleImage, StyleOptions, Stylizer, VggLayer};

/// A small deterministic generator (xorshift64*), so a failure names a case that reproduces.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<T: Clone>(&mut self, values: &[T]) -> T {
        values[(self.next() % values.len() as u64) as usize].clone()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// An options object: each key present or not; its value inside the range (at its edges
/// too) or, one time in twenty, outside it.
fn options(random: &mut Random) -> Value {
    let names = VggLayer::ALL.map(|l| l.name());
    let weight = (
        vec![json!(0.0), json!(1e-3), json!(1.0), json!(20.0), json!(1e6)],
        json!(-1.0),
    );
    let fraction = (vec![json!(0.0), json!(0.3), json!(1.0)], json!(1.5));
    let keys: Vec<(&str, (Vec<Value>, Value))> = vec![
        (
            "size",
            (vec![json!(16), json!(24), json!(32), json!(40)], json!(8)),
        ),
        (
            "iterations",
            (vec![json!(0), json!(1), json!(2)], json!(-1)),
        ),
        ("contentWeight", weight.clone()),
        ("styleWeight", weight.clone()),
        ("tvWeight", weight),
        (
            "styleScale",
            (
                vec![json!(0.05), json!(0.5), json!(1.0), json!(4.0)],
                json!(0.0),
            ),
        ),
        (
            "minScale",
            (vec![json!(16), json!(20), json!(32), json!(128)], json!(1)),
        ),
        (
            "scaleStep",
            (
                vec![json!(1.06), json!(1.414), json!(2.0), json!(4.0)],
                json!(1.0),
            ),
        ),
        (
            "init",
            (
                vec![json!("content"), json!("noise"), json!("fast")],
                json!("photo"),
            ),
        ),
        ("fastStrength", fraction.clone()),
        ("fastMix", fraction),
        (
            "seed",
            (vec![json!(0), json!(7), json!(1u64 << 53)], json!(-7)),
        ),
        (
            "optimizer",
            (vec![json!("lbfgs"), json!("adam")], json!("sgd")),
        ),
        (
            "lbfgsHistory",
            (vec![json!(1), json!(10), json!(100)], json!(0)),
        ),
        (
            "learningRate",
            (vec![json!(1e-3), json!(0.02), json!(1.0)], json!(0.0)),
        ),
        (
            "preserveColors",
            (vec![json!(false), json!(true)], json!("yes")),
        ),
        (
            "contentLayer",
            (names.iter().map(|l| json!(l)).collect(), json!("relu6_1")),
        ),
        (
            "previewEvery",
            (vec![json!(0), json!(1), json!(5)], json!(0.5)),
        ),
        ("memoryBudget", (vec![json!(128), json!(1024)], json!(64))),
    ];
    let mut object: Map<String, Value> = Map::new();
    for (key, (valid, invalid)) in keys {
        if random.chance(40) {
            let value = if random.chance(5) {
                invalid
            } else {
                random.pick(&valid)
            };
            object.insert(key.to_string(), value);
        }
    }
    if random.chance(40) {
        let count = random.pick(&[0usize, 1, 2, 5]);
        let weights = [0.0, 0.5, 1.0];
        let layers = (0..count)
            .map(|_| {
                let weight = if random.chance(5) {
                    -1.0
                } else {
                    random.pick(&weights)
                };
                json!([random.pick(&names), weight])
            })
            .collect();
        object.insert("styleLayers".to_string(), Value::Array(layers));
    }
    Value::Object(object)
}

#[test]
fn every_option_object_that_validates_runs() {
    let stylizer = Stylizer::new(&int8_weights(), &cpu())
        .with_fast(&fast_weights())
        .unwrap();
    // Square, so that every valid size fits both sides (a photo too narrow for its size is an
    // input error with its own message, not an option's).
    let photo = fixture("photo.jpg").resize(40, 40);
    let painting = fixture("painting.png").resize(40, 40);
    let styles = [StyleImage {
        image: &painting,
        blend: 1.0,
    }];
    let mut random = Random(0x5eed);
    let (mut valid, mut refused) = (0, 0);
    // The cases that matter most, then random ones; a size and a step count are always given
    // (the defaults, 512 px and 500 steps, are too slow for a test of many combinations).
    let mut cases = vec![
        json!({"size": 32, "iterations": 1, "styleWeight": 0, "styleLayers": []}),
        json!({"size": 32, "iterations": 1, "styleWeight": 0, "styleLayers": [], "init": "content"}),
        json!({"size": 32, "iterations": 2, "styleLayers": [["relu1_1", 0]]}),
    ];
    cases.extend((0..200).map(|_| {
        let mut case = options(&mut random);
        let object = case.as_object_mut().unwrap();
        object.entry("size").or_insert(json!(32));
        object.entry("iterations").or_insert(json!(1));
        case
    }));
    for (i, case) in cases.iter().enumerate() {
        let options = match StyleOptions::deserialize_validated(case.clone()) {
            Ok(options) => options,
            Err(error) => {
                refused += 1;
                println!("case {i}: refused ({error}): {case}");
                continue;
            }
        };
        valid += 1;
        let run = stylizer.stylize(&photo, &styles, &options, |_| ControlFlow::Continue(()));
        let result = pollster::block_on(run)
            .unwrap_or_else(|e| panic!("case {i}: {case} validated but the run failed: {e}"));
        let long = result.image.width().max(result.image.height());
        assert_eq!(long, options.size, "case {i}: {case}");
        assert!(
            result.image.planar().iter().all(|v| v.is_finite()),
            "case {i}: {case} gave a picture with non-finite values"
        );
    }
    println!("{valid} ran, {refused} refused");
    // Both sides are exercised: the generator is not so wild that nothing validates, nor so
    // tame that nothing is refused.
    assert!(
        valid >= 20 && refused >= 20,
        "{valid} ran, {refused} refused"
    );
}
