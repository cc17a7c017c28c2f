//! The one way into [`StyleOptions`] from outside: deserialization that names what it refuses,
//! and the range of every value.

use serde::Deserializer;
use serde_path_to_error::Segment;

use super::*;

/// An option that is unknown, of the wrong type, or outside its valid range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid option `{name}`: {reason}")]
pub struct OptionsError {
    /// The option's name as the caller wrote it (camelCase from JSON and JavaScript), or
    /// `options` when the whole value is not an object.
    pub name: String,
    /// What is wrong with its value.
    pub reason: String,
}

pub(super) fn invalid(name: &str, reason: impl Into<String>) -> OptionsError {
    OptionsError {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// Keys that were renamed, with what to write instead.
const RENAMED: [(&str, &str); 1] = [(
    "preserveColors",
    "was replaced by `colors`: \"photo\" keeps the photo's colours (what `true` did); \
     \"painting\" is the default",
)];

fn non_negative(name: &str, value: f32) -> Result<(), OptionsError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(name, format!("must be a number ≥ 0, got {value}")))
    }
}

impl StyleOptions {
    /// Reads options from any serde format (JSON, a JavaScript object) and validates them:
    /// the one path from outside into the engine. Missing keys take their defaults; an
    /// unknown key, a wrong type or an out-of-range value is an [`OptionsError`] naming it.
    pub fn deserialize_validated<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Self, OptionsError> {
        let options: Self = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            // No key read (the path's text would be `.` or `?`, which a key can be too).
            let unnamed = e.path().iter().all(|s| matches!(s, Segment::Unknown));
            let name = if unnamed {
                "options".to_string()
            } else {
                e.path().to_string()
            };
            let reason = e.into_inner().to_string();
            match RENAMED
                .iter()
                .find(|(old, _)| reason.starts_with(&format!("unknown field `{old}`")))
            {
                Some((old, new)) => invalid(old, *new),
                None => invalid(&name, reason),
            }
        })?;
        options.validate()?;
        Ok(options)
    }

    /// Checks every option; the engine calls this before any work.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if !(MIN_SIZE..=MAX_SIZE).contains(&self.size) {
            return Err(invalid(
                "size",
                format!(
                    "must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {}",
                    self.size
                ),
            ));
        }
        if self.iterations > MAX_ITERATIONS {
            return Err(invalid(
                "iterations",
                format!(
                    "must be between 0 and {MAX_ITERATIONS}, got {}",
                    self.iterations
                ),
            ));
        }
        for (name, value) in [
            ("fastStrength", self.fast_strength),
            ("fastMix", self.fast_mix),
            ("frameStability", self.frame_stability),
        ] {
            if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                return Err(invalid(
                    name,
                    format!("must be between 0 and 1, got {value}"),
                ));
            }
        }
        non_negative("contentWeight", self.content_weight)?;
        non_negative("styleWeight", self.style_weight)?;
        non_negative("tvWeight", self.tv_weight)?;
        if self.content_weight + self.style_weight + self.tv_weight == 0.0 {
            return Err(invalid("styleWeight", "all loss weights are zero"));
        }
        let scale = self.style_scale;
        if !(scale.is_finite() && scale > 0.0 && scale <= MAX_STYLE_SCALE) {
            return Err(invalid(
                "styleScale",
                format!("must be in (0, {MAX_STYLE_SCALE}], got {scale}"),
            ));
        }
        if !(MIN_SIZE..=MAX_SIZE).contains(&self.min_scale) {
            return Err(invalid(
                "minScale",
                format!(
                    "must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {}",
                    self.min_scale
                ),
            ));
        }
        let step = self.scale_step;
        if !(step.is_finite() && step > MIN_SCALE_STEP && step <= MAX_SCALE_STEP) {
            return Err(invalid(
                "scaleStep",
                format!("must be in ({MIN_SCALE_STEP}, {MAX_SCALE_STEP}], got {step}"),
            ));
        }
        if !(1..=100).contains(&self.lbfgs_history) {
            return Err(invalid(
                "lbfgsHistory",
                format!("must be between 1 and 100, got {}", self.lbfgs_history),
            ));
        }
        let rate = self.learning_rate;
        if !(rate.is_finite() && rate > 0.0 && rate <= 1.0) {
            return Err(invalid(
                "learningRate",
                format!("must be in (0, 1], got {rate}"),
            ));
        }
        if !(MIN_MEMORY_BUDGET..=MAX_MEMORY_BUDGET).contains(&self.memory_budget) {
            return Err(invalid(
                "memoryBudget",
                format!(
                    "must be between {MIN_MEMORY_BUDGET} and {MAX_MEMORY_BUDGET} MiB, got {}",
                    self.memory_budget
                ),
            ));
        }
        let decay = self.average_decay;
        if !(decay.is_finite() && (0.0..1.0).contains(&decay)) {
            return Err(invalid(
                "averageDecay",
                format!("must be at least 0 and below 1, got {decay}"),
            ));
        }
        if self.style_weight > 0.0 && self.style_layers.is_empty() {
            return Err(invalid("styleLayers", "no style layer given"));
        }
        for &(_, weight) in &self.style_layers {
            non_negative("styleLayers", weight)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invalid_option_is_named() {
        let cases: Vec<(&str, StyleOptions)> = vec![
            (
                "size",
                StyleOptions {
                    size: 8,
                    ..Default::default()
                },
            ),
            (
                "size",
                StyleOptions {
                    size: 10_000,
                    ..Default::default()
                },
            ),
            (
                "iterations",
                StyleOptions {
                    iterations: MAX_ITERATIONS + 1,
                    ..Default::default()
                },
            ),
            (
                "fastStrength",
                StyleOptions {
                    fast_strength: 1.5,
                    ..Default::default()
                },
            ),
            (
                "fastMix",
                StyleOptions {
                    fast_mix: -0.1,
                    ..Default::default()
                },
            ),
            (
                "contentWeight",
                StyleOptions {
                    content_weight: -1.0,
                    ..Default::default()
                },
            ),
            (
                "styleWeight",
                StyleOptions {
                    style_weight: f32::NAN,
                    ..Default::default()
                },
            ),
            (
                "tvWeight",
                StyleOptions {
                    tv_weight: f32::INFINITY,
                    ..Default::default()
                },
            ),
            (
                "styleWeight",
                StyleOptions {
                    content_weight: 0.0,
                    style_weight: 0.0,
                    tv_weight: 0.0,
                    ..Default::default()
                },
            ),
            (
                "styleScale",
                StyleOptions {
                    style_scale: 0.0,
                    ..Default::default()
                },
            ),
            (
                "minScale",
                StyleOptions {
                    min_scale: 4,
                    ..Default::default()
                },
            ),
            (
                "scaleStep",
                StyleOptions {
                    scale_step: 1.0,
                    ..Default::default()
                },
            ),
            (
                "lbfgsHistory",
                StyleOptions {
                    lbfgs_history: 0,
                    ..Default::default()
                },
            ),
            (
                "averageDecay",
                StyleOptions {
                    average_decay: 1.0,
                    ..Default::default()
                },
            ),
            (
                "learningRate",
                StyleOptions {
                    optimizer: Optimizer::Adam,
                    learning_rate: -0.1,
                    ..Default::default()
                },
            ),
            (
                "styleLayers",
                StyleOptions {
                    style_layers: vec![],
                    ..Default::default()
                },
            ),
            (
                "styleLayers",
                StyleOptions {
                    style_layers: vec![(VggLayer::Relu1_1, -2.0)],
                    ..Default::default()
                },
            ),
        ];
        for (name, options) in cases {
            let err = options.validate().unwrap_err();
            assert_eq!(err.name, name, "{err}");
        }
    }

    fn from_json(text: &str) -> Result<StyleOptions, OptionsError> {
        StyleOptions::deserialize_validated(&mut serde_json::Deserializer::from_str(text))
    }

    #[test]
    fn json_takes_camel_case_keys_and_defaults_the_rest() {
        let o = from_json(
            r#"{"size": 256, "styleWeight": 50, "optimizer": "adam", "learningRate": 0.1,
                "init": "noise", "colors": "luminance",
                "styleLayers": [["relu1_1", 1], ["relu3_1", 0.5]]}"#,
        )
        .unwrap();
        let expected = StyleOptions {
            size: 256,
            style_weight: 50.0,
            optimizer: Optimizer::Adam,
            learning_rate: 0.1,
            init: Init::Noise,
            colors: Colors::Luminance,
            style_layers: vec![(VggLayer::Relu1_1, 1.0), (VggLayer::Relu3_1, 0.5)],
            ..Default::default()
        };
        assert_eq!(o, expected);
        // The defaults object round-trips through its own serialized form.
        let text = serde_json::to_string(&StyleOptions::default()).unwrap();
        assert_eq!(from_json(&text).unwrap(), StyleOptions::default());
        assert_eq!(from_json("{}").unwrap(), StyleOptions::default());
    }

    #[test]
    fn json_errors_name_the_option() {
        for (text, name, reason) in [
            (
                r#"{"styleWieght": 5}"#,
                "styleWieght",
                "unknown field `styleWieght`",
            ),
            (
                r#"{"preserveColors": true}"#,
                "preserveColors",
                "was replaced by `colors`: \"photo\"",
            ),
            (
                r#"{"colors": "sepia"}"#,
                "colors",
                "unknown variant `sepia`",
            ),
            (r#"{"size": "big"}"#, "size", "invalid type"),
            (r#"{"size": 300.5}"#, "size", "invalid type"),
            (r#"{"iterations": -3}"#, "iterations", "invalid value"),
            (
                r#"{"optimizer": "sgd"}"#,
                "optimizer",
                "unknown variant `sgd`",
            ),
            (
                r#"{"styleLayers": [["relu9_9", 1]]}"#,
                "styleLayers[0][0]",
                "unknown variant",
            ),
            (r#"{"size": 8}"#, "size", "between 16 and 4096"),
            (r#"{"scaleStep": 1}"#, "scaleStep", "(1.05, 4]"),
            ("42", "options", "invalid type"),
            // Keys that read like the paths of nothing in particular are still named.
            (r#"{".": 1}"#, ".", "unknown field `.`"),
            (r#"{"?": 1}"#, "?", "unknown field `?`"),
            ("{", "options", "EOF while parsing"),
        ] {
            let e = from_json(text).unwrap_err();
            assert_eq!(e.name, name, "{text}: {e}");
            assert!(e.reason.contains(reason), "{text}: {e}");
        }
    }
}
