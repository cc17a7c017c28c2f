use super::*;
use crate::random::SplitMix64;

/// A `width × height` picture of smooth blobs and fine grain, the same for one seed: texture
/// at every scale, as a photo has, so every level of the shift search has something to match.
fn texture(width: u32, height: u32, seed: u64) -> Image {
    let mut rng = SplitMix64::new(seed);
    let blobs: Vec<[f32; 4]> = (0..24)
        .map(|_| {
            let (x, y) = (rng.uniform() * width as f32, rng.uniform() * height as f32);
            [x, y, 6.0 + rng.gaussian().abs() * 10.0, rng.gaussian()]
        })
        .collect();
    let n = (width * height) as usize;
    let mut data = vec![0.0; 3 * n];
    for i in 0..n {
        let (x, y) = ((i as u32 % width) as f32, (i as u32 / width) as f32);
        let mut v = 0.5 + 0.05 * rng.gaussian();
        for [bx, by, r, a] in &blobs {
            let d2 = (x - bx).powi(2) + (y - by).powi(2);
            v += 0.3 * a * (-d2 / (r * r)).exp();
        }
        for c in 0..3 {
            data[c * n + i] = (v + 0.05 * c as f32).clamp(0.0, 1.0);
        }
    }
    Image::from_planar(width, height, data).unwrap()
}

#[test]
fn the_motion_between_two_frames_is_found_at_every_scale_of_shift() {
    let scene = texture(360, 240, 3);
    let size = (256, 160);
    let before = scene.crop(40, 40, size.0, size.1);
    // The camera moves left and down: the scene moves right and up in the frame.
    for (dx, dy) in [(0, 0), (1, 0), (0, -1), (5, -3), (-12, 7), (18, 12)] {
        let after = scene.crop((40 - dx) as u32, (40 - dy) as u32, size.0, size.1);
        assert_eq!(motion(&before, &after), (dx, dy), "shift ({dx}, {dy})");
    }
    // A frame with nothing to match (flat grey) stays put.
    let flat = Image::from_planar(64, 48, vec![0.5; 3 * 64 * 48]).unwrap();
    assert_eq!(motion(&flat, &flat), (0, 0));
}

#[test]
fn steadying_mixes_in_the_moved_previous_picture_where_the_input_did_not_change() {
    let scene = texture(200, 120, 5);
    let size = (96, 64);
    let before = scene.crop(50, 30, size.0, size.1);
    let after = scene.crop(48, 30, size.0, size.1); // the scene moved 2 px right
    let grey = |v: f32| Image::from_planar(96, 64, vec![v; 3 * 96 * 64]).unwrap();
    // The previous picture: a left-to-right ramp, so its shift shows.
    let ramp: Vec<f32> = (0..3 * 96 * 64).map(|i| (i % 96) as f32 / 95.0).collect();
    let previous = Painted {
        input: before,
        output: Image::from_planar(96, 64, ramp.clone()).unwrap(),
    };
    // Stability 0 paints the frame on its own.
    assert_eq!(steady(&previous, &after, grey(0.2), 0.0), grey(0.2));
    let steadied = steady(&previous, &after, grey(0.2), 0.6);
    let values = steadied.planar();
    // Pixels brought in at the left edge have no previous picture; elsewhere 0.6 of the
    // previous picture 2 px to the left (the input is the same there, up to nothing).
    assert!((values[0] - 0.2).abs() < 1e-6 && (values[1] - 0.2).abs() < 1e-6);
    for x in [2, 30, 95] {
        let expected = 0.2 + 0.6 * (ramp[x - 2] - 0.2);
        assert!((values[40 * 96 + x] - expected).abs() < 1e-5, "x {x}");
    }
    // Where the input changed (a new object), the new picture alone.
    let mut changed = after.planar().to_vec();
    (0..3).for_each(|c| changed[c * 96 * 64 + 40 * 96 + 30] += 0.3);
    let changed = Image::from_planar(96, 64, changed).unwrap();
    let steadied = steady(&previous, &changed, grey(0.2), 0.6);
    assert!((steadied.planar()[40 * 96 + 30] - 0.2).abs() < 1e-4);
}

#[test]
fn flicker_is_the_outputs_change_beyond_the_inputs() {
    let frames: Vec<Image> = (0..4).map(|k| texture(32, 24, k)).collect();
    let still = vec![frames[0].clone(); 4];
    // A picture that follows its input exactly adds nothing; a still input painted
    // differently each time flickers by the outputs' change.
    assert!(flicker(&frames, &frames).abs() < 1e-12);
    let expected = (0..3)
        .map(|k| mean_difference(&frames[k], &frames[k + 1]))
        .sum::<f64>()
        / 3.0;
    assert!((flicker(&still, &frames) - expected).abs() < 1e-9);
    assert!(expected > 0.01);
    assert_eq!(flicker(&frames[..1], &frames[..1]), 0.0);
}
