//! Values across the wasm boundary: the engine's outputs and errors as JavaScript values, and
//! the photo, the paintings and the options read from them. No `#[wasm_bindgen]` here: the
//! surface is `web.rs`.

use std::ops::ControlFlow;

use js_sys::{Array, Function, Object, Reflect, Uint8Array, Uint8ClampedArray};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::{Image, Mask, Progress, StyleImage, StyleOptions, StylizeError};

/// An engine output as a plain JavaScript object, through its `Serialize` (camelCase keys):
/// the one conversion out of the engine; images go separately, as pixels ([`set_image`]).
pub(super) fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    let text = serde_json::to_string(value).expect("the engine's outputs serialize");
    js_sys::JSON::parse(&text).expect("serde_json writes JSON")
}

/// Reads the options through the one serde path
/// ([`StyleOptions::deserialize_validated_over`] the engine's `defaults`), as JSON: the same
/// text the CLI's `--options` file holds.
pub(super) fn options_from_js(
    value: JsValue,
    defaults: &StyleOptions,
) -> Result<StyleOptions, JsValue> {
    let bad = |reason: &str| {
        named_error(
            "OptionsError",
            &format!("invalid option `options`: {reason}"),
        )
    };
    let text = if value.is_undefined() || value.is_null() {
        "{}".to_string()
    } else {
        js_sys::JSON::stringify(&value)
            .ok()
            .and_then(|text| text.as_string())
            .ok_or_else(|| bad("must be a plain object"))?
    };
    let value = serde_json::from_str(&text).map_err(|_| bad("must be a plain object"))?;
    StyleOptions::deserialize_validated_over(defaults, value)
        .map_err(|e| named_error("OptionsError", &e.to_string()))
}

/// A JavaScript `Error` with `name` set, so the worker can tell the kinds apart.
pub(super) fn named_error(name: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(name);
    error.into()
}

/// The engine's typed error as a named JavaScript error.
pub(super) fn stylize_error(e: StylizeError) -> JsValue {
    let message = e.to_string();
    match e {
        // Asking for the fast start from an engine created without its weights is a wrong
        // option for that engine; the engine itself stays usable.
        // Too large for the GPU: a smaller size or memory budget runs.
        StylizeError::Options(_)
        | StylizeError::Styles(_)
        | StylizeError::Masks(_)
        | StylizeError::NoFastNetwork
        | StylizeError::TooLarge { .. } => named_error("OptionsError", &message),
        StylizeError::TooNarrow { .. } => named_error("ImageInputError", &message),
        StylizeError::Cancelled => named_error("AbortError", &message),
        StylizeError::Diverged(_) | StylizeError::Device(_) => {
            let error = named_error("EngineError", &message);
            let fatal = matches!(e, StylizeError::Device(_));
            Reflect::set(&error, &"fatal".into(), &fatal.into()).expect("set on an Error");
            error
        }
    }
}

/// A JavaScript error message being built up.
pub(super) struct WebError(String);

impl WebError {
    /// An `ImageInputError` about `what` (the content or a style).
    pub(super) fn context(self, what: &str) -> JsValue {
        named_error("ImageInputError", &format!("{what}: {}", self.0))
    }
}

fn get(object: &JsValue, key: &str) -> Result<JsValue, WebError> {
    Reflect::get(object, &key.into()).map_err(|_| WebError(format!("cannot read `{key}`")))
}

pub(super) fn set(object: &Object, key: &str, value: JsValue) {
    Reflect::set(object, &key.into(), &value).expect("setting a field of a plain object");
}

fn optional_number(object: &JsValue, key: &str) -> Result<Option<f64>, WebError> {
    let value = get(object, key)?;
    if value.is_undefined() {
        return Ok(None);
    }
    value
        .as_f64()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| WebError(format!("`{key}` must be a finite number")))
}

pub(super) fn image_from_js(value: &JsValue) -> Result<Image, WebError> {
    let (width, height, bytes) = pixels_from_js(value, "the image")?;
    Image::from_rgba8(width, height, &bytes).map_err(|e| WebError(e.to_string()))
}

/// The `width`, `height` and `data` bytes of an `ImageData`-like object (`what` names it in
/// the error).
fn pixels_from_js(value: &JsValue, what: &str) -> Result<(u32, u32, Vec<u8>), WebError> {
    let dimension = |key| -> Result<u32, WebError> {
        optional_number(value, key)?
            .filter(|v| *v >= 0.0 && v.fract() == 0.0 && *v <= f64::from(u32::MAX))
            .map(|v| v as u32)
            .ok_or_else(|| WebError(format!("{what} needs a whole-number `{key}`")))
    };
    let (width, height) = (dimension("width")?, dimension("height")?);
    let data = get(value, "data")?;
    let bytes = if data.is_instance_of::<Uint8ClampedArray>() {
        Uint8ClampedArray::from(data).to_vec()
    } else if data.is_instance_of::<Uint8Array>() {
        Uint8Array::from(data).to_vec()
    } else {
        return Err(WebError(format!("{what}'s `data` must be bytes")));
    };
    Ok((width, height, bytes))
}

/// A painting as the engine gets it from JavaScript: the picture, its blend weight and its
/// mask.
pub(super) type Painting = (Image, f32, Option<Mask>);

/// The paintings of `styles` (`[{image, blend?, mask?}]`); an `ImageInputError` naming the
/// entry, or an `OptionsError` for its mask, otherwise.
pub(super) fn styles_from_js(styles: &Array) -> Result<Vec<Painting>, JsValue> {
    (styles.iter().enumerate())
        .map(|(i, style)| {
            let (image, blend) =
                style_from_js(&style).map_err(|e| e.context(&format!("style {}", i + 1)))?;
            let mask = get(&style, "mask").map_err(|e| e.context("mask"))?;
            let mask = optional_mask(&mask, &format!("the mask of style {}", i + 1))?;
            Ok((image, blend, mask))
        })
        .collect()
}

/// The paintings as the [`StyleImage`]s a run borrows.
pub(super) fn style_images(paintings: &[Painting]) -> Vec<StyleImage<'_>> {
    (paintings.iter())
        .map(|(image, blend, mask)| StyleImage {
            image,
            blend: *blend,
            mask: mask.as_ref(),
        })
        .collect()
}

/// A mask (`{width, height, data}`, one byte a pixel or RGBA), `None` when undefined; an
/// `OptionsError` naming `what` otherwise.
pub(super) fn optional_mask(value: &JsValue, what: &str) -> Result<Option<Mask>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let read = || -> Result<Mask, WebError> {
        let (width, height, bytes) = pixels_from_js(value, "it")?;
        let pixels = width as usize * height as usize;
        match bytes.len() == 4 * pixels && pixels > 0 {
            true => Mask::from_rgba8(width, height, &bytes),
            false => Mask::from_grey8(width, height, &bytes),
        }
        .map_err(|e| WebError(e.to_string()))
    };
    read()
        .map(Some)
        .map_err(|e| named_error("OptionsError", &format!("{what}: {}", e.0)))
}

/// One entry of `styles`: `{image, blend?, mask?}`; any other key is refused (a typo, or the
/// old name `weight`, must not silently fall back to the default).
fn style_from_js(value: &JsValue) -> Result<(Image, f32), WebError> {
    let object: &Object = value
        .dyn_ref()
        .ok_or_else(|| WebError("must be an object `{image, blend, mask}`".into()))?;
    for key in Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !["image", "blend", "mask"].contains(&key.as_str()) {
            return Err(WebError(format!(
                "unknown key `{key}` (a style is `{{image, blend, mask}}`)"
            )));
        }
    }
    let image = image_from_js(&get(value, "image")?)?;
    let blend = optional_number(value, "blend")?.unwrap_or(1.0) as f32;
    Ok((image, blend))
}

/// Adds `image`'s `width`, `height` and RGBA `data` (like `ImageData`) to `out`.
pub(super) fn set_image(out: &JsValue, image: &Image) {
    let out: &Object = out.unchecked_ref();
    set(out, "width", image.width().into());
    set(out, "height", image.height().into());
    let data = Uint8ClampedArray::from(image.to_rgba8().as_slice());
    set(out, "data", data.into());
}

/// Calls `on_progress`; `false` stops the run, and so does a throw, kept in `thrown` for the
/// run to reject with.
pub(super) fn report(
    on_progress: &Function,
    p: Progress,
    thrown: &mut Option<JsValue>,
) -> ControlFlow<()> {
    let out = to_js(&p);
    if let Some(image) = &p.image {
        let picture = JsValue::from(Object::new());
        set_image(&picture, image);
        set(out.unchecked_ref(), "image", picture);
    }
    match on_progress.call1(&JsValue::NULL, &out) {
        Ok(v) if v == JsValue::FALSE => ControlFlow::Break(()),
        Ok(_) => ControlFlow::Continue(()),
        Err(error) => {
            *thrown = Some(error);
            ControlFlow::Break(())
        }
    }
}
