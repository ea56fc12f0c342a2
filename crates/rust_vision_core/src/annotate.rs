//! Detections drawn onto the image: a box per detection and its label and score.

use font8x8::{UnicodeFonts, BASIC_FONTS};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_hollow_rect_mut};
use imageproc::rect::Rect;

use crate::detect::Detection;

const BOX: Rgb<u8> = Rgb([0, 255, 0]);
const TEXT: Rgb<u8> = Rgb([0, 0, 0]);
/// Glyph cell of the 8x8 font, pixels.
const GLYPH: u32 = 8;

/// Draws each detection's box (2 pixels wide) and, above it, its label, score and
/// second-stage label.
pub fn annotate(image: &mut RgbImage, detections: &[Detection]) {
    for d in detections {
        let (x, y) = (d.bbox.x.round() as i32, d.bbox.y.round() as i32);
        let (w, h) = (
            d.bbox.width.round().max(1.0),
            d.bbox.height.round().max(1.0),
        );
        for inset in 0..2u32 {
            if w as u32 > 2 * inset && h as u32 > 2 * inset {
                let rect = Rect::at(x + inset as i32, y + inset as i32)
                    .of_size(w as u32 - 2 * inset, h as u32 - 2 * inset);
                draw_hollow_rect_mut(image, rect, BOX);
            }
        }
        let mut text = format!("{} {:.2}", d.label, d.score);
        if let Some(c) = &d.classification {
            text.push_str(&format!(" {} {:.2}", c.label, c.score));
        }
        let ty = if y >= GLYPH as i32 + 2 {
            y - GLYPH as i32 - 2
        } else {
            y + 2
        };
        draw_text(image, x, ty, &text);
    }
}

/// Black text on a box-coloured background; characters without a glyph are skipped.
fn draw_text(image: &mut RgbImage, x: i32, y: i32, text: &str) {
    let glyphs: Vec<[u8; 8]> = text.chars().filter_map(|c| BASIC_FONTS.get(c)).collect();
    if glyphs.is_empty() {
        return;
    }
    let width = glyphs.len() as u32 * GLYPH + 2;
    draw_filled_rect_mut(image, Rect::at(x, y).of_size(width, GLYPH + 2), BOX);
    for (i, glyph) in glyphs.iter().enumerate() {
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                if bits & (1 << col) == 0 {
                    continue;
                }
                let px = x + 1 + (i as u32 * GLYPH + col) as i32;
                let py = y + 1 + row as i32;
                if px >= 0 && py >= 0 && (px as u32) < image.width() && (py as u32) < image.height()
                {
                    image.put_pixel(px as u32, py as u32, TEXT);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::BoundingBox;

    #[test]
    fn boxes_and_labels_are_drawn_inside_the_image() {
        let mut image = RgbImage::new(100, 60);
        let detection = |x, y| Detection {
            bbox: BoundingBox {
                x,
                y,
                width: 30.0,
                height: 20.0,
            },
            class_id: 0,
            label: "blob".into(),
            score: 0.5,
            objectness: 0.5,
            classification: None,
            track_id: 0,
        };
        // One well inside, one running off the bottom-right corner.
        annotate(&mut image, &[detection(20.0, 30.0), detection(90.0, 50.0)]);
        assert_eq!(*image.get_pixel(20, 30), BOX);
        assert_eq!(*image.get_pixel(49, 49), BOX);
        assert_eq!(*image.get_pixel(35, 40), Rgb([0, 0, 0]));
        // The label sits above the first box.
        let label_row = (20..60).filter(|&x| *image.get_pixel(x, 21) == BOX).count();
        assert!(label_row > 20, "{label_row}");
    }
}
