//! An image as a model's input: the 1x3xHxW float tensor, bilinear resizing with or
//! without a letterbox, and the mapping of the model's coordinates back to the image.
//! Written here rather than with `image::imageops::resize` because it resizes, pads,
//! scales to 0..1 and goes planar in one pass over the input, with no intermediate image.

use image::RgbImage;

/// A model input of `shape` (N, C, H, W), row-major, backend-neutral.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTensor {
    pub shape: [usize; 4],
    pub data: Vec<f32>,
}

/// Where and how an image was placed into a model's input: input = image * scale + pad.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub scale: (f32, f32),
    pub pad: (f32, f32),
}

impl Placement {
    /// Image-pixel coordinates of input-pixel coordinates.
    pub fn to_image(&self, x: f32, y: f32) -> (f32, f32) {
        (
            (x - self.pad.0) / self.scale.0,
            (y - self.pad.1) / self.scale.1,
        )
    }
}

/// The part `(x, y, w, h)` of `image` as a 1x3xHxW tensor of `input` size, RGB scaled to
/// 0..1, resized bilinearly. `letterbox` keeps the aspect ratio and centres the image on
/// grey (114), as YOLO models are trained; otherwise it is stretched to the input.
pub fn image_tensor(
    image: &RgbImage,
    (x0, y0, w, h): (u32, u32, u32, u32),
    input: (u32, u32),
    letterbox: bool,
) -> (InputTensor, Placement) {
    let (iw, ih) = (input.0 as usize, input.1 as usize);
    let (sx, sy) = (input.0 as f32 / w as f32, input.1 as f32 / h as f32);
    let placement = if letterbox {
        let s = sx.min(sy);
        let (nw, nh) = ((w as f32 * s).round(), (h as f32 * s).round());
        Placement {
            scale: (s, s),
            pad: (
                ((input.0 as f32 - nw) / 2.0).floor(),
                ((input.1 as f32 - nh) / 2.0).floor(),
            ),
        }
    } else {
        Placement {
            scale: (sx, sy),
            pad: (0.0, 0.0),
        }
    };
    let mut data = vec![114.0 / 255.0; 3 * iw * ih];
    let pixels = image.as_raw();
    let stride = image.width() as usize * 3;
    let (last_x, last_y) = ((w - 1) as f32, (h - 1) as f32);
    // Source column and weight of each input column, once.
    let columns: Vec<Option<(usize, usize, f32)>> = (0..iw)
        .map(|ix| {
            let fx = (ix as f32 + 0.5 - placement.pad.0) / placement.scale.0 - 0.5;
            if fx < -0.5 || fx > last_x + 0.5 {
                return None;
            }
            let fx = fx.clamp(0.0, last_x);
            let x = fx.floor();
            let next = (x + 1.0).min(last_x);
            Some((
                (x0 as usize + x as usize) * 3,
                (x0 as usize + next as usize) * 3,
                fx - x,
            ))
        })
        .collect();
    for iy in 0..ih {
        let fy = (iy as f32 + 0.5 - placement.pad.1) / placement.scale.1 - 0.5;
        if fy < -0.5 || fy > last_y + 0.5 {
            continue;
        }
        let fy = fy.clamp(0.0, last_y);
        let y = fy.floor();
        let (top, bottom) = (
            y0 as usize + y as usize,
            y0 as usize + (y + 1.0).min(last_y) as usize,
        );
        let a = fy - y;
        let (top, bottom) = (&pixels[top * stride..], &pixels[bottom * stride..]);
        for (ix, column) in columns.iter().enumerate() {
            let Some((left, right, b)) = *column else {
                continue;
            };
            for c in 0..3 {
                let p = |row: &[u8], at: usize| f32::from(row[at + c]);
                let upper = p(top, left) + (p(top, right) - p(top, left)) * b;
                let lower = p(bottom, left) + (p(bottom, right) - p(bottom, left)) * b;
                data[(c * ih + iy) * iw + ix] = (upper + (lower - upper) * a) / 255.0;
            }
        }
    }
    let tensor = InputTensor {
        shape: [1, 3, ih, iw],
        data,
    };
    (tensor, placement)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `tensor` at `[n, c, y, x]`.
    fn at(tensor: &InputTensor, [n, c, y, x]: [usize; 4]) -> f32 {
        let [_, channels, height, width] = tensor.shape;
        tensor.data[((n * channels + c) * height + y) * width + x]
    }

    #[test]
    fn letterbox_centres_and_maps_back() {
        let image = RgbImage::from_pixel(200, 100, image::Rgb([255, 0, 0]));
        let (tensor, placement) = image_tensor(&image, (0, 0, 200, 100), (64, 64), true);
        assert_eq!(placement.scale, (0.32, 0.32));
        assert_eq!(placement.pad, (0.0, 16.0));
        let (x, y) = placement.to_image(64.0, 48.0);
        assert!((x - 200.0).abs() < 1e-3 && (y - 100.0).abs() < 1e-3);
        assert_eq!(tensor.shape, [1, 3, 64, 64]);
        assert_eq!(at(&tensor, [0, 0, 32, 32]), 1.0); // red inside
        assert_eq!(at(&tensor, [0, 1, 32, 32]), 0.0);
        assert_eq!(at(&tensor, [0, 0, 2, 32]), 114.0 / 255.0); // grey padding
    }
}
