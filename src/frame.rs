//! Raw images as they arrive from a camera or a publisher, and the bounds put on them.

/// An image as published: pixel rows of `step` bytes in some encoding, not yet checked.
///
/// It owns its bytes so that a well-formed RGB image becomes the decoded image without a
/// copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawImage {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Bytes per row, padding included.
    pub step: u32,
    /// Pixel encoding, as sensor_msgs/Image names it (`rgb8`, `bgr8`, `mono8`, ...).
    pub encoding: String,
    /// Byte order of multi-byte pixel values.
    pub is_bigendian: bool,
    /// `step * height` bytes.
    pub data: Vec<u8>,
}

/// A compressed image as published (sensor_msgs/CompressedImage): JPEG or PNG bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressedImage {
    /// The format string image_transport writes: `jpeg`, `png`, `rgb8; jpeg compressed
    /// bgr8`, `bgr8; png compressed`, ...
    pub format: String,
    /// The compressed bytes.
    pub data: Vec<u8>,
}

/// A frame as received, before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Raw(RawImage),
    Compressed(CompressedImage),
}

/// Bounds on the images the core accepts, checked before any allocation.
///
/// The defaults admit every common camera (up to 8K) and refuse the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted width, pixels. Default 8192.
    pub max_width: u32,
    /// Largest accepted height, pixels. Default 8192.
    pub max_height: u32,
    /// Largest accepted image in bytes, the received data and the decoded image each.
    /// Default 256 MiB.
    pub max_bytes: u64,
}

impl Limits {
    /// The defaults, also those of vision_node's parameters.
    pub const DEFAULT: Limits = Limits {
        max_width: 8192,
        max_height: 8192,
        max_bytes: 256 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
