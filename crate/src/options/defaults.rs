//! What callers read from the engine instead of keeping copies: the defaults for a kind of
//! device, the named presets layered on them, and the limits of the options. The page, the
//! widget, the JavaScript API and the CLI all take these (through `web.rs` in the browser).

use serde::Serialize;
use serde_json::Value;

use super::validate::invalid;
use super::*;
use crate::device::DeviceKind;

/// A named preset: an output size and a number of steps over the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Preset {
    /// What the page and the CLI call it.
    pub name: &'static str,
    /// Longer side of the output, in pixels.
    pub size: u32,
    /// Steps of the optimisation; 0 is the feed-forward network's picture alone.
    pub iterations: u32,
}

/// The default size and steps ([`StyleOptions::default`]), the page's default preset.
pub const BALANCED: Preset = Preset {
    name: "balanced",
    size: 384,
    iterations: 300,
};

/// The presets, fastest first: `quick` is the network's picture alone at 1024 px.
pub const PRESETS: [Preset; 4] = [
    Preset {
        name: "quick",
        size: 1024,
        iterations: 0,
    },
    Preset {
        name: "draft",
        size: 256,
        iterations: 150,
    },
    BALANCED,
    Preset {
        name: "best",
        size: 512,
        iterations: 500,
    },
];

/// A named look: where the picture sits between the photo and the painting, as the content
/// weight over the defaults (the style weight stays; the page's style-strength slider scales
/// it from there). Chosen with the `compare` tool (README, "Choosing the look").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Look {
    /// What the page and the CLI call it.
    pub name: &'static str,
    /// Weight of the content loss.
    pub content_weight: f32,
}

/// The default look: jcjohnson/neural-style's balance (content weight 5 against style 100).
/// Judged by the float VGG16 on four pairs at 256 px, its pictures sit 0.28–0.46 of the
/// painting's distance from the photo (jcjohnson's published outputs: 0.35–0.66), and
/// nearest the painting's style by Gram matrices of every setting compared, or within 0.001.
pub const PAINTERLY: Look = Look {
    name: "painterly",
    content_weight: 5.0,
};

/// The looks, the default first: `faithful` is the engine's look before issue 23 (content
/// weight 20), keeping more of the photo (0.21–0.25 of the painting's distance).
pub const LOOKS: [Look; 2] = [
    PAINTERLY,
    Look {
        name: "faithful",
        content_weight: 20.0,
    },
];

/// The range of the options with numeric limits, as the validation applies them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Smallest output side.
    pub min_size: u32,
    /// Largest output side.
    pub max_size: u32,
    /// Most iterations in one run.
    pub max_iterations: u32,
    /// Smallest memory budget, in MiB.
    pub min_memory_budget: u32,
    /// Largest memory budget, in MiB.
    pub max_memory_budget: u32,
    /// Largest style scale.
    pub max_style_scale: f32,
    /// The scale step must be above this …
    pub min_scale_step: f32,
    /// … and at most this.
    pub max_scale_step: f32,
}

/// The limits [`StyleOptions::validate`] applies.
pub const LIMITS: Limits = Limits {
    min_size: MIN_SIZE,
    max_size: MAX_SIZE,
    max_iterations: MAX_ITERATIONS,
    min_memory_budget: MIN_MEMORY_BUDGET,
    max_memory_budget: MAX_MEMORY_BUDGET,
    max_style_scale: MAX_STYLE_SCALE,
    min_scale_step: MIN_SCALE_STEP,
    max_scale_step: MAX_SCALE_STEP,
};

impl StyleOptions {
    /// The defaults on a `kind` device: [`StyleOptions::default`] with that kind's memory
    /// budget. [`Stylizer::defaults`](crate::Stylizer::defaults) gives them for a stylizer.
    pub fn defaults_for(kind: DeviceKind) -> Self {
        Self {
            memory_budget: kind.memory_budget(),
            ..Self::default()
        }
    }

    /// [`deserialize_validated`](Self::deserialize_validated) with the keys left out taken
    /// from `defaults` instead of [`StyleOptions::default`]. `value` must be an object.
    pub fn deserialize_validated_over(defaults: &Self, value: Value) -> Result<Self, OptionsError> {
        let Value::Object(given) = value else {
            return Err(invalid("options", "must be an object"));
        };
        let Ok(Value::Object(mut merged)) = serde_json::to_value(defaults) else {
            unreachable!("options serialize to an object");
        };
        merged.extend(given);
        Self::deserialize_validated(Value::Object(merged))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_default_look_is_painterly_and_faithful_keeps_more_of_the_photo() {
        let defaults = StyleOptions::default();
        assert_eq!(LOOKS[0], PAINTERLY);
        assert_eq!(defaults.content_weight, PAINTERLY.content_weight);
        let faithful = LOOKS.iter().find(|l| l.name == "faithful").unwrap();
        assert!(faithful.content_weight > PAINTERLY.content_weight);
        for look in LOOKS {
            let options = StyleOptions {
                content_weight: look.content_weight,
                ..StyleOptions::default()
            };
            options.validate().unwrap();
        }
        assert_eq!(
            serde_json::to_value(LOOKS).unwrap()[1],
            json!({"name": "faithful", "contentWeight": 20.0})
        );
    }

    #[test]
    fn the_defaults_are_the_balanced_preset_with_the_device_s_budget() {
        for kind in [DeviceKind::Cpu, DeviceKind::Gpu] {
            let defaults = StyleOptions::defaults_for(kind);
            assert_eq!(defaults.memory_budget, kind.memory_budget());
            assert_eq!((defaults.size, defaults.iterations), (384, 300));
            defaults.validate().unwrap();
        }
        assert!(DeviceKind::Gpu.memory_budget() < DeviceKind::Cpu.memory_budget());
        assert!(PRESETS.contains(&BALANCED));
    }

    #[test]
    fn every_preset_validates_and_they_get_slower_in_order() {
        let names: Vec<_> = PRESETS.iter().map(|p| p.name).collect();
        assert_eq!(names, ["quick", "draft", "balanced", "best"]);
        for preset in PRESETS {
            let options = StyleOptions {
                size: preset.size,
                iterations: preset.iterations,
                ..StyleOptions::default()
            };
            options.validate().unwrap();
        }
        let work = |p: &Preset| u64::from(p.size).pow(2) * u64::from(p.iterations);
        assert!(PRESETS[1..].windows(2).all(|w| work(&w[0]) < work(&w[1])));
    }

    #[test]
    fn the_limits_are_the_ones_validation_applies() {
        let at = |key: &str, value: Value| {
            let mut object = serde_json::Map::new();
            object.insert(key.into(), value);
            StyleOptions::deserialize_validated_over(&StyleOptions::default(), object.into())
        };
        for (key, inside, outside) in [
            ("size", json!(LIMITS.min_size), json!(LIMITS.min_size - 1)),
            ("size", json!(LIMITS.max_size), json!(LIMITS.max_size + 1)),
            (
                "iterations",
                json!(LIMITS.max_iterations),
                json!(LIMITS.max_iterations + 1),
            ),
            (
                "memoryBudget",
                json!(LIMITS.min_memory_budget),
                json!(LIMITS.min_memory_budget - 1),
            ),
            (
                "memoryBudget",
                json!(LIMITS.max_memory_budget),
                json!(LIMITS.max_memory_budget + 1),
            ),
            (
                "styleScale",
                json!(LIMITS.max_style_scale),
                json!(LIMITS.max_style_scale * 1.01),
            ),
            (
                "scaleStep",
                json!(LIMITS.max_scale_step),
                json!(LIMITS.max_scale_step * 1.01),
            ),
            (
                "scaleStep",
                json!(LIMITS.min_scale_step * 1.01),
                json!(LIMITS.min_scale_step),
            ),
        ] {
            at(key, inside.clone()).unwrap_or_else(|e| panic!("{key} {inside}: {e}"));
            let error = at(key, outside.clone()).expect_err(&format!("{key} {outside}"));
            assert_eq!(error.name, key);
        }
    }

    #[test]
    fn keys_left_out_take_the_given_defaults_and_unknown_keys_are_still_refused() {
        let gpu = StyleOptions::defaults_for(DeviceKind::Gpu);
        let options = StyleOptions::deserialize_validated_over(&gpu, json!({"size": 256})).unwrap();
        assert_eq!(
            options,
            StyleOptions {
                size: 256,
                ..gpu.clone()
            }
        );
        // Given keys win over the defaults, including the budget.
        let options =
            StyleOptions::deserialize_validated_over(&gpu, json!({"memoryBudget": 2048})).unwrap();
        assert_eq!(options.memory_budget, 2048);
        let error =
            StyleOptions::deserialize_validated_over(&gpu, json!({"styleWieght": 1})).unwrap_err();
        assert_eq!(error.name, "styleWieght", "{error}");
        let error = StyleOptions::deserialize_validated_over(&gpu, json!([1, 2])).unwrap_err();
        assert_eq!(
            (error.name.as_str(), error.reason.as_str()),
            ("options", "must be an object")
        );
    }
}
