//! The browser surface: the only file that knows about JavaScript. The module Web Worker in
//! `www/worker.js` drives it; the engine underneath is plain burn.

use std::ops::ControlFlow;
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Array, Function, Object, Reflect, Uint8Array, Uint8ClampedArray};
use wasm_bindgen::prelude::*;

use serde::Serialize;

use crate::options::{LIMITS, PRESETS};
use crate::{
    ConvKernel, FastWeights, Image, Progress, StyleImage, StyleOptions, StylizeError, Stylizer,
    VggWeights,
};

/// Sends Rust panics to the browser console with their message.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The style-transfer engine with VGG16, and the feed-forward network, loaded on one device.
#[wasm_bindgen]
pub struct Engine {
    stylizer: Rc<Stylizer>,
    backend: &'static str,
    fallback: Option<String>,
    defaults: StyleOptions,
}

#[wasm_bindgen]
impl Engine {
    /// Loads the int8 weight files' bytes (VGG16's, and the feed-forward network's, which
    /// `init: "fast"` and 0-iteration runs need; `undefined` to leave it out) onto
    /// `backend`: `"webgpu"`, `"cpu"` (burn's CPU backend compiled to wasm) or `"auto"`
    /// (WebGPU when the browser has it and gives a device, else the CPU, with the reason in
    /// [`fallback`](Self::fallback)). `kernel` picks VGG's convolution
    /// kernel, `"gemm"` (WebGPU only) or `"direct"` (burn's); `undefined` for the device's
    /// faster one.
    pub async fn create(
        weights: Uint8Array,
        fast: Option<Uint8Array>,
        backend: String,
        kernel: Option<String>,
    ) -> Result<Engine, JsError> {
        let weights = VggWeights::from_int8_safetensors(&weights.to_vec())?;
        let fast = fast
            .map(|bytes| FastWeights::from_int8_safetensors(&bytes.to_vec()))
            .transpose()?;
        let mut fallback = None;
        let ((device, max_buffer), backend) = match backend.as_str() {
            "cpu" => ((cpu()?, None), "cpu"),
            "webgpu" => (webgpu().await.map_err(|e| JsError::new(&e))?, "webgpu"),
            "auto" => match webgpu().await {
                Ok(gpu) => (gpu, "webgpu"),
                Err(reason) => {
                    fallback = Some(reason);
                    ((cpu()?, None), "cpu")
                }
            },
            other => {
                return Err(JsError::new(&format!(
                    "unknown backend `{other}`: use \"webgpu\", \"cpu\" or \"auto\""
                )));
            }
        };
        let kernel = match kernel.as_deref() {
            None => ConvKernel::default_for(&device),
            Some(name) => ConvKernel::from_name(name)
                .filter(|k| k.runs_on(&device))
                .ok_or_else(|| {
                    JsError::new(&format!(
                        "kernel `{name}` does not run on {backend}: use \"direct\", or \"gemm\" on WebGPU"
                    ))
                })?,
        };
        let mut stylizer =
            Stylizer::with_kernel(&weights, &device, kernel).with_max_buffer(max_buffer);
        if let Some(fast) = &fast {
            stylizer = stylizer.with_fast(fast)?;
        }
        Ok(Engine {
            defaults: stylizer.defaults(),
            stylizer: Rc::new(stylizer),
            backend,
            fallback,
        })
    }

    /// Why an `"auto"` engine runs on the CPU: WebGPU was missing or gave no device (its
    /// message); `undefined` when the engine runs on what was asked for.
    #[wasm_bindgen(getter)]
    pub fn fallback(&self) -> Option<String> {
        self.fallback.clone()
    }

    /// `"webgpu"` or `"cpu"`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.to_string()
    }

    /// The engine options that options left out take on this engine's device: every key,
    /// camelCase ([`Stylizer::defaults`]; the memory budget depends on the device).
    #[wasm_bindgen(getter)]
    pub fn defaults(&self) -> JsValue {
        to_js(&self.defaults)
    }

    /// The scales of a run on a `width × height` photo with `options`:
    /// `[{width, height, iterations, tiles, work, lbfgsPairs}]`, `work` in pixels of a
    /// whole-image forward and backward pass per iteration (see [`crate::ScalePlan`]). For a
    /// time estimate before Start.
    pub fn plan(&self, width: u32, height: u32, options: JsValue) -> Result<JsValue, JsValue> {
        let options = options_from_js(options, &self.defaults)?;
        let scales = crate::plan(width, height, &options).map_err(stylize_error)?;
        Ok(to_js(&scales))
    }

    /// Compiles the GPU's pipelines for a run with `options` (engine options, as for
    /// `stylize`) by a tiny run on synthetic images ([`Stylizer::warm_up`]); resolves when
    /// done. Worth it on WebGPU, where a first run would otherwise compile them.
    #[wasm_bindgen(js_name = warmUp)]
    pub fn warm_up(&self, options: JsValue) -> js_sys::Promise {
        let stylizer = Rc::clone(&self.stylizer);
        let options = options_from_js(options, &self.defaults);
        wasm_bindgen_futures::future_to_promise(async move {
            let options = options?;
            stylizer.warm_up(&options).await.map_err(stylize_error)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Stylizes `content` (`{width, height, data}` with RGBA bytes, like `ImageData`) with
    /// `styles` (an array of `{image, blend}`; `blend` is the painting's share, default 1),
    /// resolving to `{width, height, data, iterations, losses, startKept}` (`losses`, the
    /// result's, is `null` after 0 iterations; `startKept`: no step improved on the start,
    /// which is the result).
    ///
    /// `options` is the engine's options object with camelCase keys (see
    /// [`StyleOptions`]); keys left out keep their defaults, an unknown key or a bad value
    /// rejects with an `OptionsError` before any work starts. `onProgress` gets
    /// `{iteration, total, scale, scales, width, height, losses, phases, image?}` after every
    /// iteration, and first `{iteration: 0, losses: null, image?}` for the fast start's
    /// picture (`image` with `previewEvery` > 0, as for every preview); during a tiled
    /// iteration, `{iteration, tile: {done, count, x, y, width, height}, losses: null}` after
    /// each tile, its rectangle being the tile's interior at this scale. It may return
    /// `false` to stop; if it throws, the run stops and rejects with what it threw.
    ///
    /// Errors are JavaScript `Error`s named `OptionsError`, `ImageInputError` or
    /// `EngineError`; an `EngineError` whose `fatal` is true (the device failed) leaves the
    /// engine unusable.
    pub fn stylize(
        &self,
        content: JsValue,
        styles: Array,
        options: JsValue,
        on_progress: Function,
    ) -> js_sys::Promise {
        let stylizer = Rc::clone(&self.stylizer);
        let options = options_from_js(options, &self.defaults);
        wasm_bindgen_futures::future_to_promise(async move {
            let options = options?;
            let content = image_from_js(&content).map_err(|e| e.context("content"))?;
            let mut images = Vec::new();
            let mut blends = Vec::new();
            for (i, style) in styles.iter().enumerate() {
                let what = format!("style {}", i + 1);
                let (image, blend) = style_from_js(&style).map_err(|e| e.context(&what))?;
                images.push(image);
                blends.push(blend);
            }
            let styles: Vec<StyleImage> = images
                .iter()
                .zip(&blends)
                .map(|(image, &blend)| StyleImage { image, blend })
                .collect();
            let mut thrown = None;
            let result = stylizer
                .stylize(&content, &styles, &options, |p| {
                    report(&on_progress, p, &mut thrown)
                })
                .await;
            if let Some(error) = thrown {
                return Err(error);
            }
            let result = result.map_err(stylize_error)?;
            let out = to_js(&result);
            set_image(&out, &result.image);
            Ok(out)
        })
    }
}

/// The limits of the engine options: `{minSize, maxSize, maxIterations, minMemoryBudget,
/// maxMemoryBudget, maxStyleScale, minScaleStep, maxScaleStep}` ([`crate::options::Limits`]).
#[wasm_bindgen]
pub fn limits() -> JsValue {
    to_js(&LIMITS)
}

/// The named presets, fastest first: `[{name, size, iterations}]`, each over the defaults
/// ([`crate::options::PRESETS`]).
#[wasm_bindgen]
pub fn presets() -> JsValue {
    to_js(&PRESETS)
}

/// An engine output as a plain JavaScript object, through its `Serialize` (camelCase keys):
/// the one conversion out of the engine; images go separately, as pixels ([`set_image`]).
fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    let text = serde_json::to_string(value).expect("the engine's outputs serialize");
    js_sys::JSON::parse(&text).expect("serde_json writes JSON")
}

/// Reads the options through the one serde path
/// ([`StyleOptions::deserialize_validated_over`] the engine's `defaults`), as JSON: the same
/// text the CLI's `--options` file holds.
fn options_from_js(value: JsValue, defaults: &StyleOptions) -> Result<StyleOptions, JsValue> {
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
fn named_error(name: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(name);
    error.into()
}

/// The engine's typed error as a named JavaScript error.
fn stylize_error(e: StylizeError) -> JsValue {
    let message = e.to_string();
    match e {
        // Asking for the fast start from an engine created without its weights is a wrong
        // option for that engine; the engine itself stays usable.
        // Too large for the GPU: a smaller size or memory budget runs.
        StylizeError::Options(_)
        | StylizeError::Styles(_)
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
async fn webgpu() -> Result<(Device, Option<u64>), String> {
    Err("this build has no WebGPU backend (cargo feature `gpu`)".into())
}

/// A WebGPU device and its largest buffer in bytes, or why there is none.
#[cfg(feature = "gpu")]
async fn webgpu() -> Result<(Device, Option<u64>), String> {
    use burn::tensor::wgpu::WgpuInitError;
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or_default();
    let gpu = Reflect::get(&navigator, &"gpu".into()).unwrap_or_default();
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no WebGPU (navigator.gpu is missing)".into());
    }
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| match e {
            // Said to the user as the reason the engine runs on the CPU: the cases they can
            // act on in their words, wgpu's own text where it says something.
            WgpuInitError::AdapterUnavailable { .. } => {
                "this browser found no GPU for WebGPU".to_string()
            }
            WgpuInitError::RequestDevice { message } => {
                format!("the GPU would not start: {message}")
            }
            other => format!("WebGPU could not start: {other}"),
        })?;
    Ok((device, Some(crate::device::max_buffer(&setup))))
}

/// A JavaScript error message being built up.
struct WebError(String);

impl WebError {
    /// An `ImageInputError` about `what` (the content or a style).
    fn context(self, what: &str) -> JsValue {
        named_error("ImageInputError", &format!("{what}: {}", self.0))
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

/// One entry of `styles`: `{image, blend?}`; any other key is refused (a typo, or the old
/// name `weight`, must not silently fall back to the default).
fn style_from_js(value: &JsValue) -> Result<(Image, f32), WebError> {
    let object: &Object = value
        .dyn_ref()
        .ok_or_else(|| WebError("must be an object `{image, blend}`".into()))?;
    for key in Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if key != "image" && key != "blend" {
            return Err(WebError(format!(
                "unknown key `{key}` (a style is `{{image, blend}}`)"
            )));
        }
    }
    let image = image_from_js(&get(value, "image")?)?;
    let blend = optional_number(value, "blend")?.unwrap_or(1.0) as f32;
    Ok((image, blend))
}

/// Adds `image`'s `width`, `height` and RGBA `data` (like `ImageData`) to `out`.
fn set_image(out: &JsValue, image: &Image) {
    let out: &Object = out.unchecked_ref();
    set(out, "width", image.width().into());
    set(out, "height", image.height().into());
    let data = Uint8ClampedArray::from(image.to_rgba8().as_slice());
    set(out, "data", data.into());
}

/// Calls `on_progress`; `false` stops the run, and so does a throw, kept in `thrown` for the
/// run to reject with.
fn report(on_progress: &Function, p: Progress, thrown: &mut Option<JsValue>) -> ControlFlow<()> {
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
