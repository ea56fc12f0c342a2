//! Raw images as they arrive from a camera or a publisher, and the bounds put on them.

/// An image as published: pixel rows of `step` bytes in some encoding, not yet checked.
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
    pub data: Pixels,
}

/// The bytes of a raw image: a buffer of ours, or one the transport filled, read where it
/// lies.
///
/// A frame is decoded where the middleware put it: copying a 1080p frame (6 MB) into a
/// `Vec` first would be one more pass over memory per frame, for nothing.
pub enum Pixels {
    /// Ours: a tightly packed rgb8 image becomes the decoded image without a copy.
    Owned(Vec<u8>),
    /// Someone else's buffer (rclrs's message, say), freed when the frame is decoded.
    Foreign(Box<dyn AsRef<[u8]> + Send + Sync>),
}

impl Pixels {
    /// A buffer of someone else's, read in place.
    pub fn foreign(buffer: impl AsRef<[u8]> + Send + Sync + 'static) -> Self {
        Pixels::Foreign(Box::new(buffer))
    }

    /// The bytes as a `Vec`: taken over when owned, copied when foreign.
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            Pixels::Owned(data) => data,
            Pixels::Foreign(buffer) => (*buffer).as_ref().to_vec(),
        }
    }
}

impl std::ops::Deref for Pixels {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Pixels::Owned(data) => data,
            Pixels::Foreign(buffer) => (**buffer).as_ref(),
        }
    }
}

impl From<Vec<u8>> for Pixels {
    fn from(data: Vec<u8>) -> Self {
        Pixels::Owned(data)
    }
}

impl Clone for Pixels {
    fn clone(&self) -> Self {
        Pixels::Owned(self.to_vec())
    }
}

impl PartialEq for Pixels {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Pixels {}

impl std::fmt::Debug for Pixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes", self.len())
    }
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

/// Where a frame came from, where the transport says: its publisher, and that
/// publisher's number of it (consecutive from 1 for its first), from which frames sent
/// but never received are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The publisher's identity (a DDS writer's GUID, say), opaque.
    pub publisher: u128,
    /// The publisher's sequence number of this frame.
    pub sequence: u64,
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
