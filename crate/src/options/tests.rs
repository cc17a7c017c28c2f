//! The defaults and the schedule they give; and every option object that validates runs:
//! random objects through the one options path (JSON, as the CLI and the browser send them),
//! and each one that validates is run for a step or two at a small size on the CPU backend. A
//! panic anywhere fails that test; before it, `{styleWeight: 0, styleLayers: []}` validated
//! and then panicked in the objective.

use std::ops::ControlFlow;

use serde_json::{Map, Value, json};

use super::*;
use crate::Stylizer;
use crate::style::StyleImage;
use crate::test_util::{Random, cpu, fast_weights, fixture, int8_weights};

mod malformed;

#[test]
fn defaults_are_valid_and_follow_the_anchors() {
    let o = StyleOptions::default();
    o.validate().unwrap();
    assert_eq!(
        (o.content_weight, o.style_weight, o.tv_weight),
        (5.0, 100.0, 1e-3)
    );
    // 362 px, 6 % under the output, is dropped: the step to 384 would be a repeat.
    assert_eq!(o.scales(), vec![128, 181, 256, 384]);
    assert_eq!(o.iterations_per_scale(), vec![75; 4]);
}

#[test]
fn small_sizes_run_at_one_scale_and_iterations_split_with_remainder_last() {
    let o = StyleOptions {
        size: 64,
        iterations: 30,
        ..Default::default()
    };
    assert_eq!(o.scales(), vec![64]);
    let o = StyleOptions {
        size: 256,
        iterations: 3 * MIN_SCALE_ITERATIONS + 2,
        ..Default::default()
    };
    assert_eq!(o.scales(), vec![128, 181, 256]);
    let m = MIN_SCALE_ITERATIONS;
    assert_eq!(o.iterations_per_scale(), vec![m, m, m + 2]);
}

/// Each scale gets at least [`MIN_SCALE_ITERATIONS`]: fewer steps, fewer scales, the
/// finest kept; one step still runs at the output size.
/// Coarse-to-fine scales the given weights 256:64:16:4:1 by depth (whatever order the
/// layers are listed in) and keeps their mean, so the style weight keeps its meaning.
#[test]
fn coarse_to_fine_weights_fall_fourfold_with_depth_and_average_the_given_ones() {
    let o = StyleOptions::default();
    assert_eq!(o.layer_weights(), vec![1.0; 5]);
    let o = StyleOptions {
        style_layer_weights: StyleLayerWeights::CoarseToFine,
        ..o
    };
    let w = o.layer_weights();
    for pair in w.windows(2) {
        assert!((pair[0] / pair[1] - 4.0).abs() < 1e-5, "{w:?}");
    }
    assert!((w.iter().sum::<f32>() / 5.0 - 1.0).abs() < 1e-6);
    let listed_deep_first = StyleOptions {
        style_layers: vec![(VggLayer::Relu3_1, 2.0), (VggLayer::Relu1_1, 2.0)],
        ..o
    };
    assert_eq!(listed_deep_first.layer_weights(), vec![0.8, 3.2]);
}

#[test]
fn short_runs_drop_the_coarsest_scales() {
    let scales = |iterations| {
        let o = StyleOptions {
            size: 512,
            iterations,
            ..Default::default()
        };
        (o.scales(), o.iterations_per_scale())
    };
    let m = MIN_SCALE_ITERATIONS;
    assert_eq!(scales(1), (vec![512], vec![1]));
    assert_eq!(scales(2 * m - 1), (vec![512], vec![2 * m - 1]));
    assert_eq!(scales(2 * m), (vec![362, 512], vec![m, m]));
    assert_eq!(scales(5 * m + 3).0, vec![128, 181, 256, 362, 512]);
    assert_eq!(scales(500).1, vec![100; 5]);
}

#[test]
fn a_step_that_does_not_grow_gives_one_scale_instead_of_looping() {
    for scale_step in [1.0, 0.5, 0.0, -2.0, f32::NAN, f32::INFINITY] {
        let o = StyleOptions {
            scale_step,
            ..Default::default()
        };
        assert_eq!(o.scales(), vec![o.size], "{scale_step}");
        assert!(o.validate().is_err());
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
        ("fastMix", fraction.clone()),
        ("frameStability", fraction),
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
            "colors",
            (
                vec![
                    json!("painting"),
                    json!("photo"),
                    json!("luminance"),
                    json!("match"),
                ],
                json!("sepia"),
            ),
        ),
        (
            "averageDecay",
            (vec![json!(0.0), json!(0.5), json!(0.99)], json!(1.0)),
        ),
        (
            "styleLoss",
            (vec![json!("gram"), json!("wasserstein")], json!("kl")),
        ),
        (
            "styleLayerWeights",
            (
                vec![json!("equal"), json!("coarse-to-fine")],
                json!("fine-to-coarse"),
            ),
        ),
        (
            "padding",
            (
                vec![json!("zero"), json!("replicate"), json!("reflect")],
                json!("circular"),
            ),
        ),
        (
            "pooling",
            (vec![json!("max"), json!("average")], json!("l2")),
        ),
        (
            "styleFilter",
            (vec![json!("triangle"), json!("lanczos3")], json!("cubic")),
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
        mask: None,
    }];
    let mut random = Random::new(0x5eed);
    let (mut valid, mut refused) = (0, 0);
    // The cases that matter most, then random ones; a size and a step count are always given
    // (the defaults are too slow for a test of many combinations).
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
