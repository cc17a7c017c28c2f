//! The browser surface: the only file that knows about JavaScript. The module Web Worker in
//! `www/worker.js` drives it; the engine underneath is plain burn.

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Array, Function, Object, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::options::{LIMITS, LOOKS, PRESETS};
use crate::{ConvKernel, FastWeights, FramePainter, StyleOptions, Stylizer, VggWeights};

mod convert;
use convert::{
    image_from_js, optional_mask, options_from_js, report, set_image, style_images, styles_from_js,
    stylize_error, to_js,
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
    defaults: StyleOptions,
}

#[wasm_bindgen]
impl Engine {
    /// Loads the int8 weight files' bytes (VGG16's, and the feed-forward network's, which
    /// `init: "fast"` and 0-iteration runs need; `undefined` to leave it out) onto
    /// `backend`: `"webgpu"`, `"cpu"` (burn's CPU backend compiled to wasm) or `"auto"`
    /// (WebGPU when the browser has it and gives a device; else the promise rejects with an
    /// error named `WebGpuUnavailable` whose message says why, and the caller, the worker,
    /// runs the CPU module, which is a build of its own). `kernel` picks VGG's convolution
    /// kernel, `"gemm"` (WebGPU only) or `"direct"` (burn's); `undefined` for the device's
    /// faster one.
    pub async fn create(
        weights: Uint8Array,
        fast: Option<Uint8Array>,
        backend: String,
        kernel: Option<String>,
    ) -> Result<Engine, JsValue> {
        // The device first: an 'auto' engine of the WebGPU module that finds no device rejects
        // before it has read tens of megabytes of weights into memory it would never give back.
        let ((device, max_buffer), backend) = match backend.as_str() {
            "cpu" => ((cpu()?, None), "cpu"),
            "webgpu" => (webgpu().await.map_err(|e| JsError::new(&e))?, "webgpu"),
            "auto" => match webgpu().await {
                Ok(gpu) => (gpu, "webgpu"),
                // The CPU backend is a module of its own, which the worker then loads.
                Err(reason) => {
                    let error = js_sys::Error::new(&reason);
                    error.set_name("WebGpuUnavailable");
                    return Err(error.into());
                }
            },
            other => {
                return Err(JsError::new(&format!(
                    "unknown backend `{other}`: use \"webgpu\", \"cpu\" or \"auto\""
                ))
                .into());
            }
        };
        let weights =
            VggWeights::from_int8_safetensors(&weights.to_vec()).map_err(JsError::from)?;
        let fast = fast
            .map(|bytes| FastWeights::from_int8_safetensors(&bytes.to_vec()))
            .transpose()
            .map_err(JsError::from)?;
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
            stylizer = stylizer.with_fast(fast).map_err(JsError::from)?;
        }
        Ok(Engine {
            defaults: stylizer.defaults(),
            stylizer: Rc::new(stylizer),
            backend,
        })
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
    /// `styles` (an array of `{image, blend, mask}`; `blend` is the painting's share, default
    /// 1; `mask`, optional, where it goes), the photo kept where the mask `keep` is drawn
    /// (`undefined` for none; masks are `{width, height, data}` with one byte a pixel or RGBA,
    /// see [`crate::Mask`]; a bad one is an `OptionsError`), resolving to `{width, height, data, iterations, losses, startKept}` (`losses`, the
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
        keep: JsValue,
        options: JsValue,
        on_progress: Function,
    ) -> js_sys::Promise {
        let stylizer = Rc::clone(&self.stylizer);
        let options = options_from_js(options, &self.defaults);
        wasm_bindgen_futures::future_to_promise(async move {
            let options = options?;
            let content = image_from_js(&content).map_err(|e| e.context("content"))?;
            let paintings = styles_from_js(&styles)?;
            let styles = style_images(&paintings);
            let keep = optional_mask(&keep, "the keep mask")?;
            let mut thrown = None;
            let result = stylizer
                .stylize_keeping(&content, keep.as_ref(), &styles, &options, |p| {
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

    /// A painter of video frames like `first` (`{width, height, data}`, RGBA) in the style of
    /// `styles` (as for `stylize`, without masks: an `OptionsError`), the style vector
    /// computed now, once ([`FramePainter`]). `options` as for `stylize`: `size`, the
    /// feed-forward network's options, `colors`, `frameStability`, and `iterations` (Gatys
    /// steps per frame; 0 for the network alone).
    pub fn frames(
        &self,
        first: JsValue,
        styles: Array,
        options: JsValue,
    ) -> Result<Frames, JsValue> {
        let options = options_from_js(options, &self.defaults)?;
        let first = image_from_js(&first).map_err(|e| e.context("frame"))?;
        let paintings = styles_from_js(&styles)?;
        let painter =
            FramePainter::new(&self.stylizer, &first, &style_images(&paintings), &options)
                .map_err(stylize_error)?;
        Ok(Frames {
            painter: Rc::new(RefCell::new(Some(painter))),
        })
    }
}

/// Frames painted one after another in one style ([`Engine::frames`]).
#[wasm_bindgen]
pub struct Frames {
    /// Taken out while a frame is painted: one frame at a time.
    painter: Rc<RefCell<Option<FramePainter>>>,
}

#[wasm_bindgen]
impl Frames {
    /// Paints `frame` (`{width, height, data}`, RGBA, any size), steadied by the frame before
    /// it; resolves to `{width, height, data}` at the options' size. One frame at a time: a
    /// second call before the first settles rejects.
    pub fn paint(&self, frame: JsValue) -> js_sys::Promise {
        let slot = Rc::clone(&self.painter);
        wasm_bindgen_futures::future_to_promise(async move {
            let frame = image_from_js(&frame).map_err(|e| e.context("frame"))?;
            let mut painter = slot.borrow_mut().take().ok_or_else(|| {
                JsValue::from(JsError::new(
                    "a frame is still being painted: one at a time",
                ))
            })?;
            let painted = painter.paint(&frame).await;
            *slot.borrow_mut() = Some(painter);
            let out = JsValue::from(Object::new());
            set_image(&out, &painted.map_err(stylize_error)?);
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

/// The named looks, the default first: `[{name, contentWeight}]`, each over the defaults
/// ([`crate::options::LOOKS`]).
#[wasm_bindgen]
pub fn looks() -> JsValue {
    to_js(&LOOKS)
}

/// Starts the CPU backend's pool on `threads` Web Workers that share this module's memory
/// (wasm-bindgen-rayon; the page must be cross-origin isolated). Resolves when they run; call
/// once, before [`Engine::create`]. Only in the threaded module (cargo feature `threads`).
#[cfg(feature = "threads")]
#[allow(unused_imports)] // exported to JavaScript by its own `#[wasm_bindgen]`
pub use wasm_bindgen_rayon::init_thread_pool;

/// The CPU backend's pool as this thread alone, for a page that is not cross-origin isolated
/// (its workers cannot share memory), or whose pool did not start: the CPU module then computes
/// on the engine's thread alone. Call once, before [`Engine::create`], instead of
/// `initThreadPool`.
#[cfg(feature = "threads")]
#[wasm_bindgen(js_name = initOneThread)]
pub fn init_one_thread() -> Result<(), JsError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build_global()
        .map_err(|e| JsError::new(&format!("the CPU backend's thread pool: {e}")))
}

/// The BroadcastChannel that [`report_panics_to`] posts panics to, read on whichever thread
/// panics (the module's memory, and so this, is shared by the pool's threads).
#[cfg(feature = "threads")]
static PANIC_CHANNEL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Has a panic or a failed allocation on any of the engine's threads post its message to the
/// BroadcastChannel `name`, which the page listens on, besides the console.
/// A pool thread's panic cannot reach the engine's thread, which waits for that thread's work
/// meanwhile; the page then ends the worker and says why. Call once, before the pool starts.
#[cfg(feature = "threads")]
#[wasm_bindgen(js_name = reportPanicsTo)]
pub fn report_panics_to(name: String) {
    if PANIC_CHANNEL.set(name).is_err() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post_panic(&info.to_string());
    }));
    std::alloc::set_alloc_error_hook(|layout| {
        post_panic(&format!(
            "out of memory: {} bytes could not be allocated",
            layout.size()
        ));
    });
}

/// Posts `message` to the page's panic channel ([`report_panics_to`]).
#[cfg(feature = "threads")]
fn post_panic(message: &str) {
    if let Some(channel) = PANIC_CHANNEL
        .get()
        .and_then(|name| web_sys::BroadcastChannel::new(name).ok())
    {
        let _ = channel.post_message(&JsValue::from_str(message));
        channel.close();
    }
}

/// Panics on a thread of the pool: for the tests of what the page hears of it.
#[cfg(feature = "threads")]
#[doc(hidden)]
#[wasm_bindgen(js_name = panicOnPool)]
pub fn panic_on_pool() {
    rayon::join(
        || {},
        || panic!("a panic on the thread pool, asked for by a test"),
    );
}

/// The number of threads the CPU backend computes on: its pool's size in the threaded module
/// (cargo feature `threads`), else 1.
#[wasm_bindgen]
pub fn threads() -> usize {
    #[cfg(feature = "threads")]
    return rayon::current_num_threads();
    #[cfg(not(feature = "threads"))]
    return 1;
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
    use js_sys::Reflect;
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

/// The photo in the paintings' colours, at once and without a network (the page's "Palette
/// only"): `content` recoloured to the palette (the mean and covariance of RGB) of the blend
/// of `styles` (`[{image, blend?}]`, each painting's pixels by its share). Resolves to
/// `{width, height, data}` at the content's size; `ImageInputError` or `OptionsError` (a bad
/// blend) otherwise.
#[wasm_bindgen]
pub fn palette(content: JsValue, styles: Array) -> Result<JsValue, JsValue> {
    let content = image_from_js(&content).map_err(|e| e.context("content"))?;
    let paintings = styles_from_js(&styles)?;
    let image =
        crate::in_paintings_colors(&content, &style_images(&paintings)).map_err(stylize_error)?;
    let out = JsValue::from(Object::new());
    set_image(&out, &image);
    Ok(out)
}
