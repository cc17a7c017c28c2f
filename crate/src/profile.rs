//! Where an iteration's time goes, for benchmarks, with a clock that also runs in the browser
//! (`web-time`: `performance.now()` in wasm, `std::time::Instant` natively).

use web_time::Instant;

/// Milliseconds one iteration spent in each phase. On the CPU backend every operation runs
/// when it is issued, so these are the phases' own costs; on a GPU the work is queued, and most
/// of it shows up in `read`, where the engine waits for the device.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Phases {
    /// Forward pass, losses and backward pass through VGG16; in the start's report
    /// (iteration 0), the time taken to make the start (the feed-forward network's painting).
    pub network: f64,
    /// Reading the loss terms and the optimiser's scalars back from the device.
    pub read: f64,
    /// The optimiser's update of the pixels (L-BFGS's vector operations or Adam's).
    pub optimizer: f64,
    /// Rendering the preview image; 0 in iterations without one.
    pub preview: f64,
}

/// Laps of a clock in milliseconds.
pub(crate) struct Stopwatch(Instant);

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Self(Instant::now())
    }

    /// Milliseconds since the start or the last lap.
    pub(crate) fn lap(&mut self) -> f64 {
        let now = Instant::now();
        let ms = (now - self.0).as_secs_f64() * 1e3;
        self.0 = now;
        ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laps_measure_the_time_between_them() {
        let mut clock = Stopwatch::start();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let first = clock.lap();
        let second = clock.lap();
        assert!((15.0..2000.0).contains(&first), "{first}");
        assert!(second < first, "{second} after {first}");
    }
}
