//! The `stylize` command line.

mod common;

use std::process::Command;

use common::*;

fn stylize(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stylize"))
        .args(args)
        .output()
        .expect("run stylize")
}

/// `stylize --content C --style S --output O` and `extra`.
fn stylize_one(
    content: &std::path::Path,
    style: &std::path::Path,
    output: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "--content",
        content.to_str().unwrap(),
        "--style",
        style.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    stylize(&args)
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("stylize-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn unreadable_input_is_one_line_and_exit_code_2() {
    let not_an_image = temp("notes.jpg");
    std::fs::write(&not_an_image, "this is text, not a JPEG").unwrap();
    let empty = temp("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let truncated = temp("truncated.png");
    let png = std::fs::read(root().join("tests/fixtures/painting.png")).unwrap();
    std::fs::write(&truncated, &png[..png.len() / 3]).unwrap();
    let painting = root().join("tests/fixtures/painting.png");
    let out = temp("never.png");
    for bad in [&not_an_image, &empty, &truncated, &temp("missing.jpg")] {
        let output = stylize(&[
            "--content",
            bad.to_str().unwrap(),
            "--style",
            painting.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--backend",
            "cpu",
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{}: {stderr}", bad.display());
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("cannot read image"), "{stderr}");
        assert!(!out.exists());
    }
}

#[test]
fn unusual_but_valid_images_are_read_as_rgb() {
    use style_transfer::native::read_image;
    // CMYK JPEG (committed), 16-bit grey and transparent PNG (written here).
    let cmyk = read_image(&root().join("tests/fixtures/cmyk.jpg")).unwrap();
    let photo = read_image(&root().join("tests/fixtures/photo.jpg"))
        .unwrap()
        .resize(cmyk.width(), cmyk.height());
    assert!(relative_error(cmyk.planar(), photo.planar()) < 0.1);

    let grey16 = temp("grey16.png");
    image::ImageBuffer::from_fn(4, 2, |x, _| image::Luma([x as u16 * 20_000]))
        .save(&grey16)
        .unwrap();
    let grey = read_image(&grey16).unwrap();
    let p = grey.planar();
    // Every channel equal, the ramp kept: 0, 20000, 40000, 60000 of 65535.
    for x in 0..4 {
        let v = x as f32 * 20_000.0 / 65_535.0;
        for c in 0..3 {
            assert!((p[c * 8 + x] - v).abs() < 0.01, "{p:?}");
        }
    }

    let clear = temp("clear.png");
    image::RgbaImage::from_pixel(2, 2, image::Rgba([0, 0, 0, 0]))
        .save(&clear)
        .unwrap();
    assert!(
        read_image(&clear)
            .unwrap()
            .planar()
            .iter()
            .all(|&v| v == 1.0)
    );
}

#[test]
fn invalid_options_exit_with_code_2() {
    let photo = root().join("tests/fixtures/photo.jpg");
    let out = temp("bad-options.png");
    for extra in [
        &["--size", "4"][..],
        &["--fast-strength", "2"],
        &["--quick", "--iterations", "5"],
        &["--blend", "1", "--blend", "2"],
        &["--optimizer", "sgd"],
        &["--look", "vivid"],
        &["--style-loss", "kl"],
        &["--padding", "circular"],
        &["--average-decay", "1"],
        &["--options", "/nonexistent/options.json"],
        &["--threads", "0"],
    ] {
        let output = stylize_one(
            &photo,
            &photo,
            &out,
            &[extra, &["--backend", "cpu"]].concat(),
        );
        assert_eq!(
            output.status.code(),
            Some(2),
            "{extra:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn a_tiny_run_writes_the_result_and_snapshots() {
    let photo = root().join("tests/fixtures/photo.jpg");
    let painting = root().join("tests/fixtures/painting.png");
    let out = temp("result.png");
    let output = stylize(&[
        "--content",
        photo.to_str().unwrap(),
        "--style",
        painting.to_str().unwrap(),
        "--style",
        photo.to_str().unwrap(),
        "--blend",
        "2",
        "--blend",
        "1",
        "--output",
        out.to_str().unwrap(),
        "--size",
        "40",
        "--iterations",
        "4",
        "--save-every",
        "2",
        "--colors",
        "photo",
        // The objective's alternatives and the look, through the same options path.
        "--look",
        "faithful",
        "--style-loss",
        "wasserstein",
        "--style-layer-weights",
        "coarse-to-fine",
        "--padding",
        "reflect",
        "--pooling",
        "average",
        "--style-filter",
        "lanczos3",
        "--average-decay",
        "0.5",
        "--backend",
        "cpu",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = image::open(&out).expect("a PNG").to_rgb8();
    assert_eq!(result.dimensions(), (40, 27));
    for snapshot in ["result-0002.png", "result-0004.png"] {
        assert!(out.with_file_name(snapshot).is_file(), "{snapshot} missing");
    }
}

/// A greyscale mask file in the photo's shape, white where `inside(x, y)` (0–1 coordinates).
fn mask_file(name: &str, inside: impl Fn(f32, f32) -> bool) -> std::path::PathBuf {
    let (width, height) = image::image_dimensions(root().join("tests/fixtures/photo.jpg")).unwrap();
    let (width, height) = (width / 8, height / 8);
    let mask = image::GrayImage::from_fn(width, height, |x, y| {
        let inside = inside(x as f32 / width as f32, y as f32 / height as f32);
        image::Luma([if inside { 255 } else { 0 }])
    });
    let path = temp(name);
    mask.save(&path).unwrap();
    path
}

/// `--mask` after a `--style` puts that painting where the mask is white, and `--keep-mask`
/// keeps the photo: in Quick mode the left of the picture is painted and the right is the
/// photo. A mask before any style, or one of another shape, is bad input (exit code 2).
#[test]
fn masks_put_the_painting_on_the_left_and_keep_the_photo_on_the_right() {
    let photo = root().join("tests/fixtures/photo.jpg");
    let painting = root().join("tests/fixtures/painting.png");
    let left = mask_file("left.png", |x, _| x < 0.5);
    let right = mask_file("right.png", |x, _| x >= 0.5);
    let out = temp("masked.png");
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let args = |extra: &[&str]| {
        let mut args = vec![
            "--content".to_string(),
            path(&photo),
            "--output".into(),
            path(&out),
        ];
        args.extend(["--size", "64", "--iterations", "0", "--backend", "cpu"].map(String::from));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        stylize(&args)
    };
    let output = run(args(&[
        "--style",
        &path(&painting),
        "--mask",
        &path(&left),
        "--keep-mask",
        &path(&right),
    ]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = image::open(&out).unwrap().to_rgb8();
    let (w, h) = result.dimensions();
    let photo = image::open(&photo)
        .unwrap()
        .resize_exact(w, h, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let difference = |columns: std::ops::Range<u32>| {
        let mut sum = 0.0;
        for x in columns.clone() {
            for y in 0..h {
                let (a, b) = (result.get_pixel(x, y), photo.get_pixel(x, y));
                sum += (0..3)
                    .map(|c| (f32::from(a[c]) - f32::from(b[c])).abs())
                    .sum::<f32>();
            }
        }
        sum / (3 * h * columns.len() as u32) as f32
    };
    let (painted, kept) = (difference(0..w * 2 / 5), difference(w * 3 / 5..w));
    println!("mean difference from the photo (0–255): painted {painted:.1}, kept {kept:.1}");
    assert!(
        painted > 20.0 && kept < 4.0,
        "painted {painted}, kept {kept}"
    );

    let before = run(args(&["--mask", &path(&left), "--style", &path(&painting)]));
    assert_eq!(
        before.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&before.stderr)
    );
    let square = temp("square.png");
    image::GrayImage::from_pixel(16, 16, image::Luma([255]))
        .save(&square)
        .unwrap();
    let shaped = run(args(&[
        "--style",
        &path(&painting),
        "--mask",
        &path(&square),
    ]));
    let stderr = String::from_utf8_lossy(&shaped.stderr);
    assert_eq!(shaped.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: the mask of style 1") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn an_options_file_is_read_through_the_same_path_and_flags_win() {
    let photo = root().join("tests/fixtures/photo.jpg");
    let painting = root().join("tests/fixtures/painting.png");
    let out = temp("from-file.png");
    let options = temp("options.json");
    let run = |json: &str, extra: &[&str]| {
        std::fs::write(&options, json).unwrap();
        let file = ["--backend", "cpu", "--options", options.to_str().unwrap()];
        stylize_one(&photo, &painting, &out, &[&file, extra].concat())
    };
    // A typo is named and nothing runs.
    let typo = run(r#"{"size": 24, "iterations": 1, "styleWieght": 3}"#, &[]);
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert_eq!(typo.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("styleWieght"), "{stderr}");
    // The file's size is used, except where a flag overrides it.
    let ok = run(r#"{"size": 24, "iterations": 1, "optimizer": "adam"}"#, &[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(image::open(&out).unwrap().width(), 24);
    let ok = run(r#"{"size": 24, "iterations": 1}"#, &["--size", "32"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(image::open(&out).unwrap().width(), 32);
}

#[test]
fn auto_backend_takes_a_hardware_gpu_or_the_cpu_and_says_which() {
    use style_transfer::burn::tensor::wgpu::wgpu;
    // What this machine has, asked of wgpu directly.
    let instance = wgpu::Instance::default();
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
    let kinds: Vec<_> = adapters.iter().map(|a| a.get_info().device_type).collect();
    let hardware = kinds
        .iter()
        .any(|&k| !style_transfer::native::is_software(k));

    let photo = root().join("tests/fixtures/photo.jpg");
    let out = temp("auto.png");
    let output = stylize_one(&photo, &photo, &out, &["--size", "24", "--iterations", "1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("backend: "))
        .unwrap_or_else(|| panic!("no backend line in {stderr}"));
    if hardware {
        assert!(line.starts_with("backend: GPU"), "{kinds:?}: {line}");
    } else {
        assert!(line.starts_with("backend: CPU"), "{kinds:?}: {line}");
        if !kinds.is_empty() {
            // Only a software renderer (lavapipe in the tests): the line says why.
            assert!(line.contains("software renderer"), "{line}");
        }
    }
}

#[test]
fn threads_size_the_cpu_backends_pool_and_the_backend_line_says_how_many() {
    let photo = root().join("tests/fixtures/photo.jpg");
    let out = temp("threads.png");
    for threads in ["1", "3"] {
        let output = stylize_one(
            &photo,
            &photo,
            &out,
            &[
                "--size",
                "24",
                "--iterations",
                "1",
                "--backend",
                "cpu",
                "--threads",
                threads,
            ],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let plural = if threads == "1" { "" } else { "s" };
        let line = stderr
            .lines()
            .find(|l| l.starts_with("backend: "))
            .unwrap_or_default();
        assert!(
            line.ends_with(&format!(" on {threads} thread{plural}")),
            "{line}"
        );
    }
}

#[test]
fn quick_writes_the_feed_forward_picture_at_the_size_asked() {
    let photo = root().join("tests/fixtures/photo.jpg");
    let painting = root().join("tests/fixtures/painting.png");
    let out = temp("quick.png");
    let output = stylize_one(
        &photo,
        &painting,
        &out,
        &["--quick", "--size", "300", "--backend", "cpu"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("(300x199) after 0 iterations"), "{stdout}");
    let image = style_transfer::native::read_image(&out).unwrap();
    assert_eq!((image.width(), image.height()), (300, 199));
    let original = style_transfer::native::read_image(&photo)
        .unwrap()
        .resize(300, 199);
    let difference: f32 = image
        .planar()
        .iter()
        .zip(original.planar())
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>()
        / image.planar().len() as f32;
    assert!(
        difference > 0.08,
        "the quick picture is nearly the photo: {difference}"
    );
}

#[test]
fn a_folder_of_frames_is_painted_in_order_into_another() {
    let photo =
        style_transfer::native::read_image(&root().join("tests/fixtures/photo.jpg")).unwrap();
    let painting = root().join("tests/fixtures/painting.png");
    let (from, to) = (temp("frames-in"), temp("frames-out"));
    std::fs::create_dir_all(&from).unwrap();
    // Three frames, numbered without padding (2 before 10), and a file that is not a frame.
    for (k, name) in [(0u32, "f1.png"), (1, "f2.png"), (2, "f10.png")] {
        let frame = photo.resize(160 - 8 * k, 106);
        style_transfer::native::write_image(&from.join(name), &frame).unwrap();
    }
    std::fs::write(from.join("notes.txt"), "not a frame").unwrap();
    let (from_arg, to_arg) = (from.to_str().unwrap(), to.to_str().unwrap());
    let args = [
        "--frames-in",
        from_arg,
        "--frames-out",
        to_arg,
        "--style",
        painting.to_str().unwrap(),
    ];
    let output = stylize(&[&args[..], &["--size", "64", "--backend", "cpu"]].concat());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("wrote 3 frames"), "{stdout}");
    for name in ["f1.png", "f2.png", "f10.png"] {
        let frame = style_transfer::native::read_image(&to.join(name)).unwrap();
        assert_eq!(frame.width(), 64, "{name}");
    }
    // An empty folder, and --content with --frames-in, are usage errors.
    let empty = temp("frames-empty");
    std::fs::create_dir_all(&empty).unwrap();
    let args = [
        "--frames-in",
        empty.to_str().unwrap(),
        "--frames-out",
        to_arg,
        "--style",
        painting.to_str().unwrap(),
    ];
    let output = stylize(&[&args[..], &["--backend", "cpu"]].concat());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("holds no PNG, JPEG or WebP frames"));
    let photo_path = root().join("tests/fixtures/photo.jpg");
    let both = stylize(&[&args[..], &["--content", photo_path.to_str().unwrap()]].concat());
    assert_eq!(both.status.code(), Some(2));
}
