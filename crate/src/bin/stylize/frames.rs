//! `--frames-in DIR --frames-out DIR`: a folder of numbered frames (a video split into
//! pictures, say by `ffmpeg -i clip.mp4 in/%05d.png`) painted in order by the feed-forward
//! network, each steadied by the one before ([`FramePainter`]), written under the same names
//! as PNG.

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use style_transfer::native::{read_image, write_image};
use style_transfer::{FramePainter, StyleImage, StyleOptions, Stylizer};

use super::BAD_INPUT;

/// Paints every picture in `from` (PNG, JPEG or WebP, in the order of the numbers in their
/// names) into `to` (created if missing).
pub fn paint_folder(
    stylizer: &Stylizer,
    from: &Path,
    to: &Path,
    styles: &[StyleImage<'_>],
    options: &StyleOptions,
) -> Result<(), (u8, String)> {
    let bad_input = |e: String| (BAD_INPUT, e);
    let frames = frames_in(from).map_err(bad_input)?;
    let first = read_image(&frames[0]).map_err(|e| bad_input(e.to_string()))?;
    let mut painter = FramePainter::new(stylizer, &first, styles, options)
        .map_err(|e| bad_input(e.to_string()))?;
    std::fs::create_dir_all(to).map_err(|e| (1, format!("cannot create {}: {e}", to.display())))?;
    let bar = ProgressBar::new(frames.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} frames eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let began = Instant::now();
    let mut size = (0, 0);
    for path in &frames {
        let frame = read_image(path).map_err(|e| bad_input(e.to_string()))?;
        let painted = pollster::block_on(painter.paint(&frame)).map_err(|e| (1, e.to_string()))?;
        size = (painted.width(), painted.height());
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        write_image(&to.join(format!("{name}.png")), &painted).map_err(|e| (1, e))?;
        bar.inc(1);
    }
    bar.finish();
    let ms = began.elapsed().as_secs_f64() * 1000.0 / frames.len() as f64;
    println!(
        "wrote {} frames ({}x{}) to {}, {ms:.0} ms a frame",
        frames.len(),
        size.0,
        size.1,
        to.display()
    );
    Ok(())
}

/// The pictures in `dir`, ordered by the numbers in their names (`frame2` before `frame10`).
fn frames_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut frames: Vec<PathBuf> = entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| {
            let extension = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default();
            ["png", "jpg", "jpeg", "webp"].contains(&extension.to_ascii_lowercase().as_str())
        })
        .collect();
    if frames.is_empty() {
        return Err(format!(
            "{} holds no PNG, JPEG or WebP frames",
            dir.display()
        ));
    }
    frames.sort_by_key(|path| order_key(&path.file_name().unwrap_or_default().to_string_lossy()));
    Ok(frames)
}

/// A name's sort key with every run of digits compared as a number.
fn order_key(name: &str) -> Vec<(u8, u64, String)> {
    let mut key = Vec::new();
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        let digits = c.is_ascii_digit();
        let end = (rest.find(|c: char| c.is_ascii_digit() != digits)).unwrap_or(rest.len());
        let (part, tail) = rest.split_at(end);
        key.push(match digits {
            true => (0, part.parse().unwrap_or(u64::MAX), String::new()),
            false => (1, 0, part.to_string()),
        });
        rest = tail;
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_ordered_by_their_numbers() {
        let mut names = ["f10.png", "f2.png", "f1.png", "g1.png"];
        names.sort_by_key(|n| order_key(n));
        assert_eq!(names, ["f1.png", "f2.png", "f10.png", "g1.png"]);
    }
}
