//! The tray icon, drawn at run time as RGBA pixels: one dot whose shape and colour give the most
//! interesting VM status ([`crate::menu_model::overall`]). The shape alone carries the status
//! (filled = running, half = booting/initializing, ring = stopped, small ring = missing or no VMs),
//! so it still reads as a macOS template image (alpha only, tinted by the menu bar for light and
//! dark mode) and for colour-blind users; Linux trays get the colour too.

use vmbar_engine::Status;

/// Side of the square icon, pixels (trays scale it; 32 px stays sharp at 16-22 pt, macOS @2x too).
pub const SIZE: u32 = 32;

/// The colour of a status, RGB (Okabe-Ito palette: distinguishable with the common colour-vision
/// deficiencies). The window's CSS uses the same values.
pub fn colour(status: Option<Status>) -> [u8; 3] {
    match status {
        Some(Status::Running) => [0x00, 0x9E, 0x73],      // bluish green
        Some(Status::Booting) => [0xE6, 0x9F, 0x00],      // orange
        Some(Status::Initializing) => [0x56, 0xB4, 0xE9], // sky blue
        Some(Status::Stopped) => [0x88, 0x88, 0x88],      // grey
        Some(Status::Missing) => [0xD5, 0x5E, 0x00],      // vermillion
        None => [0x88, 0x88, 0x88],
    }
}

/// Draws the icon of `status`: `SIZE * SIZE * 4` bytes of RGBA, straight alpha. `template`
/// draws black (macOS template images use only the alpha channel).
pub fn rgba(status: Option<Status>, template: bool) -> Vec<u8> {
    let [r, g, b] = if template { [0, 0, 0] } else { colour(status) };
    let c = (SIZE as f32 - 1.0) / 2.0;
    let outer = SIZE as f32 * 0.40;
    let ring = SIZE as f32 * 0.10;
    let mut out = Vec::with_capacity((SIZE * SIZE * 4) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            // 4x4 supersampling for smooth edges.
            let mut cover = 0.0f32;
            for sy in 0..4 {
                for sx in 0..4 {
                    let px = x as f32 + (sx as f32 + 0.5) / 4.0 - 0.5 - c;
                    let py = y as f32 + (sy as f32 + 0.5) / 4.0 - 0.5 - c;
                    if inside(status, px, py, outer, ring) {
                        cover += 1.0 / 16.0;
                    }
                }
            }
            out.extend_from_slice(&[r, g, b, (cover * 255.0).round() as u8]);
        }
    }
    out
}

fn inside(status: Option<Status>, x: f32, y: f32, outer: f32, ring: f32) -> bool {
    let d = (x * x + y * y).sqrt();
    let in_ring = d <= outer && d >= outer - ring;
    match status {
        Some(Status::Running) => d <= outer,
        // Half filled: the ring plus the left half (booting) or a smaller centre dot (initializing).
        Some(Status::Booting) => in_ring || (d <= outer && x <= 0.0),
        Some(Status::Initializing) => in_ring || d <= outer * 0.35,
        Some(Status::Stopped) => in_ring,
        Some(Status::Missing) | None => d <= outer * 0.6 && d >= outer * 0.6 - ring,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alpha_at(img: &[u8], x: u32, y: u32) -> u8 {
        img[((y * SIZE + x) * 4 + 3) as usize]
    }

    #[test]
    fn shapes_differ_by_status_so_templates_still_read() {
        let run = rgba(Some(Status::Running), true);
        let stop = rgba(Some(Status::Stopped), true);
        let boot = rgba(Some(Status::Booting), true);
        assert_eq!(run.len(), (SIZE * SIZE * 4) as usize);
        // Centre: filled when running, empty when stopped.
        assert_eq!(alpha_at(&run, 16, 16), 255);
        assert_eq!(alpha_at(&stop, 16, 16), 0);
        // Booting: left half filled, right half empty inside the ring.
        assert_eq!(alpha_at(&boot, 10, 16), 255);
        assert_eq!(alpha_at(&boot, 21, 16), 0);
        // Corners are transparent.
        assert_eq!(alpha_at(&run, 0, 0), 0);
        let distinct: std::collections::HashSet<Vec<u8>> = [None, Some(Status::Running), Some(Status::Booting), Some(Status::Initializing), Some(Status::Stopped)]
            .into_iter()
            .map(|s| rgba(s, true))
            .collect();
        assert_eq!(distinct.len(), 5);
    }

    #[test]
    fn colour_icons_use_the_palette_and_templates_are_black() {
        let img = rgba(Some(Status::Running), false);
        assert_eq!(&img[((16 * SIZE + 16) * 4) as usize..][..3], &[0x00, 0x9E, 0x73]);
        let t = rgba(Some(Status::Running), true);
        assert_eq!(&t[((16 * SIZE + 16) * 4) as usize..][..3], &[0, 0, 0]);
    }
}
