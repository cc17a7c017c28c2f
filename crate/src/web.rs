//! The browser surface: the only file that knows about JavaScript. The module Web Worker in
//! `www/worker.js` drives it; the engine underneath is plain burn.

use std::ops::ControlFlow;
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Array, Function, Object, Reflect, Uint8Array, Uint8ClampedArray};
use wasm_bindgen::prelude::*;

use crate::{
    Image, Init, Losses, Optimizer, Progress, StyleImage, StyleOptions, Stylizer, VggWeights,
};

/// Sends Rust panics to the browser console with their message.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The style-transfer engine with VGG16 loaded on one device.
#[wasm_bindgen]
pub struct Engine {
    stylizer: Rc<Stylizer>,
    backend: &'static str,
}

#[wasm_bindgen]
impl Engine {
    /// Loads the int8 weight file's bytes onto `backend`: `"webgpu"`, `"cpu"` (burn's CPU
    /// backend compiled to wasm) or `"auto"` (WebGPU when the browser has it, else the CPU).
    pub async fn create(weights: Uint8Array, backend: String) -> Result<Engine, JsError> {
        let weights = VggWeights::from_int8_safetensors(&weights.to_vec())?;
        let (device, backend) = match backend.as_str() {
            "cpu" => (cpu()?, "cpu"),
            "webgpu" => (webgpu().await?, "webgpu"),
            "auto" => match webgpu().await {
                Ok(device) => (device, "webgpu"),
                Err(_) => (cpu()?, "cpu"),
            },
            other => {
                return Err(JsError::new(&format!(
                    "unknown backend `{other}`: use \"webgpu\", \"cpu\" or \"auto\""
                )));
            }
        };
        Ok(Engine {
            stylizer: Rc::new(Stylizer::new(&weights, &device)),
            backend,
        })
    }

    /// `"webgpu"` or `"cpu"`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.to_string()
    }

    /// Stylizes `content` (`{width, height, data}` with RGBA bytes, like `ImageData`) with
    /// `styles` (an array of `{image, weight}`), resolving to
    /// `{width, height, data, iterations, losses}`.
    ///
    /// `options` takes the fields of the engine's options in camelCase (`size`,
    /// `iterations`, `contentWeight`, `styleWeight`, `tvWeight`, `styleScale`, `minScale`,
    /// `init`, `seed`, `optimizer`, `learningRate`, `preserveColors`, `previewEvery`); the
    /// others keep their defaults. `onProgress` gets `{iteration, total, scale, scales,
    /// width, height, losses, image?}` after every iteration and may return `false` to stop.
    pub fn stylize(
        &self,
        content: JsValue,
        styles: Array,
        options: JsValue,
        on_progress: Function,
    ) -> js_sys::Promise {
        let stylizer = Rc::clone(&self.stylizer);
        wasm_bindgen_futures::future_to_promise(async move {
            let content = image_from_js(&content).map_err(|e| e.context("content"))?;
            let mut images = Vec::new();
            let mut weights = Vec::new();
            for (i, style) in styles.iter().enumerate() {
                let image = image_from_js(&get(&style, "image")?)
                    .map_err(|e| e.context(&format!("style {}", i + 1)))?;
                images.push(image);
                weights.push(optional_number(&style, "weight")?.unwrap_or(1.0) as f32);
            }
            let styles: Vec<StyleImage> = images
                .iter()
                .zip(&weights)
                .map(|(image, &weight)| StyleImage { image, weight })
                .collect();
            let options = options_from_js(&options)?;
            let result = stylizer
                .stylize(&content, &styles, &options, |p| report(&on_progress, p))
                .await
                .map_err(|e| JsValue::from(JsError::new(&e.to_string())))?;
            let out = image_to_js(&result.image);
            set(&out, "iterations", result.iterations.into());
            set(&out, "losses", losses_to_js(&result.losses));
            Ok(out.into())
        })
    }
}

/// burn's CPU backend, when this build has it (cargo feature `cpu`).
fn cpu() -> Result<Device, JsError> {
    #[cfg(feature = "cpu")]
    return Ok(Device::flex());
    #[cfg(not(feature = "cpu"))]
    return Err(JsError::new(
        "this build has no CPU backend (cargo feature `cpu`)",
    ));
}

/// A WebGPU device, or why there is none.
#[cfg(not(feature = "gpu"))]
async fn webgpu() -> Result<Device, JsError> {
    Err(JsError::new(
        "this build has no WebGPU backend (cargo feature `gpu`)",
    ))
}

/// A WebGPU device, or why there is none.
#[cfg(feature = "gpu")]
async fn webgpu() -> Result<Device, JsError> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or_default();
    let gpu = Reflect::get(&navigator, &"gpu".into()).unwrap_or_default();
    if gpu.is_undefined() || gpu.is_null() {
        return Err(JsError::new(
            "this browser has no WebGPU (navigator.gpu is missing)",
        ));
    }
    Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| JsError::new(&format!("WebGPU is not available: {e}")))
}

/// A JavaScript error message being built up.
struct WebError(String);

impl WebError {
    fn context(self, what: &str) -> JsValue {
        JsError::new(&format!("{what}: {}", self.0)).into()
    }
}

impl From<WebError> for JsValue {
    fn from(e: WebError) -> Self {
        JsError::new(&e.0).into()
    }
}

fn get(object: &JsValue, key: &str) -> Result<JsValue, WebError> {
    Reflect::get(object, &key.into()).map_err(|_| WebError(format!("cannot read `{key}`")))
}

fn set(object: &Object, key: &str, value: JsValue) {
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

fn image_from_js(value: &JsValue) -> Result<Image, WebError> {
    let dimension = |key| -> Result<u32, WebError> {
        optional_number(value, key)?
            .filter(|v| *v >= 0.0 && v.fract() == 0.0 && *v <= f64::from(u32::MAX))
            .map(|v| v as u32)
            .ok_or_else(|| WebError(format!("the image needs a whole-number `{key}`")))
    };
    let (width, height) = (dimension("width")?, dimension("height")?);
    let data = get(value, "data")?;
    let bytes = if data.is_instance_of::<Uint8ClampedArray>() {
        Uint8ClampedArray::from(data).to_vec()
    } else if data.is_instance_of::<Uint8Array>() {
        Uint8Array::from(data).to_vec()
    } else {
        return Err(WebError("the image's `data` must be RGBA bytes".into()));
    };
    Image::from_rgba8(width, height, &bytes).map_err(|e| WebError(e.to_string()))
}

fn image_to_js(image: &Image) -> Object {
    let out = Object::new();
    set(&out, "width", image.width().into());
    set(&out, "height", image.height().into());
    let data = Uint8ClampedArray::from(image.to_rgba8().as_slice());
    set(&out, "data", data.into());
    out
}

fn losses_to_js(losses: &Losses) -> JsValue {
    let out = Object::new();
    set(&out, "content", losses.content.into());
    set(&out, "style", losses.style.into());
    set(&out, "tv", losses.tv.into());
    set(&out, "total", losses.total.into());
    out.into()
}

/// Calls `on_progress`; `false` (or a throw) stops the run.
fn report(on_progress: &Function, p: Progress) -> ControlFlow<()> {
    let out = Object::new();
    set(&out, "iteration", p.iteration.into());
    set(&out, "total", p.total.into());
    set(&out, "scale", (p.scale as u32).into());
    set(&out, "scales", (p.scales as u32).into());
    set(&out, "width", p.width.into());
    set(&out, "height", p.height.into());
    set(&out, "losses", losses_to_js(&p.losses));
    if let Some(image) = &p.image {
        set(&out, "image", image_to_js(image).into());
    }
    match on_progress.call1(&JsValue::NULL, &out) {
        Ok(v) if v == JsValue::FALSE => ControlFlow::Break(()),
        Ok(_) => ControlFlow::Continue(()),
        Err(_) => ControlFlow::Break(()),
    }
}

/// Reads the engine options from a plain object; unknown keys are errors (a typo must not
/// silently fall back to a default).
fn options_from_js(value: &JsValue) -> Result<StyleOptions, WebError> {
    let mut o = StyleOptions::default();
    if value.is_undefined() || value.is_null() {
        return Ok(o);
    }
    let object: &Object = value
        .dyn_ref()
        .ok_or_else(|| WebError("`options` must be an object".into()))?;
    for key in Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        let number =
            || optional_number(value, &key)?.ok_or_else(|| WebError(format!("`{key}` is empty")));
        let text = || {
            get(value, &key)?
                .as_string()
                .ok_or_else(|| WebError(format!("`{key}` must be a string")))
        };
        let whole = |v: f64| -> Result<u32, WebError> {
            if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) {
                Ok(v as u32)
            } else {
                Err(WebError(format!(
                    "`{key}` must be a whole number ≥ 0, got {v}"
                )))
            }
        };
        match key.as_str() {
            "size" => o.size = whole(number()?)?,
            "iterations" => o.iterations = whole(number()?)?,
            "contentWeight" => o.content_weight = number()? as f32,
            "styleWeight" => o.style_weight = number()? as f32,
            "tvWeight" => o.tv_weight = number()? as f32,
            "styleScale" => o.style_scale = number()? as f32,
            "minScale" => o.min_scale = whole(number()?)?,
            "seed" => o.seed = u64::from(whole(number()?)?),
            "previewEvery" => o.preview_every = whole(number()?)?,
            "preserveColors" => {
                o.preserve_colors = get(value, &key)?
                    .as_bool()
                    .ok_or_else(|| WebError("`preserveColors` must be true or false".into()))?
            }
            "init" => {
                o.init = match text()?.as_str() {
                    "content" => Init::Content,
                    "noise" => Init::Noise,
                    other => {
                        return Err(WebError(format!(
                            "`init` must be \"content\" or \"noise\", got \"{other}\""
                        )));
                    }
                }
            }
            "optimizer" => {
                o.optimizer = match text()?.as_str() {
                    "lbfgs" => Optimizer::LBFGS,
                    "adam" => Optimizer::ADAM,
                    other => {
                        return Err(WebError(format!(
                            "`optimizer` must be \"lbfgs\" or \"adam\", got \"{other}\""
                        )));
                    }
                }
            }
            "learningRate" => {}
            other => return Err(WebError(format!("unknown option `{other}`"))),
        }
    }
    if let (Optimizer::Adam { learning_rate }, Some(rate)) =
        (&mut o.optimizer, optional_number(value, "learningRate")?)
    {
        *learning_rate = rate as f32;
    }
    o.validate().map_err(|e| WebError(e.to_string()))?;
    Ok(o)
}
