//! The message_to_core target: the adapter's conversion of a sensor_msgs/Image, as the
//! middleware hands it over (its rmw form, pixels read in place), and of a
//! CompressedImage, into core inputs, then decoded.

use arbitrary::{Arbitrary, Unstructured};
use ros_env::sensor_msgs::msg::{rmw::Image as RmwImage, CompressedImage};
use rust_vision::convert::{compressed_image, raw_image};
use rust_vision_core::decode::decode_input;

use crate::{check_decoded, RawCase, FORMATS, LIMITS};

/// One message: an Image's fields, or a CompressedImage's format pick and bytes.
#[derive(Arbitrary, Debug)]
enum Message {
    Image(RawCase),
    Compressed(u8, Vec<u8>),
}

/// The bytes as a message, through the adapter's conversion and the core's decoding.
pub fn message_to_core(bytes: &[u8]) {
    let Ok(message) = Message::arbitrary_take_rest(Unstructured::new(bytes)) else {
        return;
    };
    let (input, size) = match message {
        Message::Image(case) => {
            let msg = RmwImage {
                width: case.width.get(),
                height: case.height.get(),
                step: case.step.get(),
                encoding: case.encoding().as_str().into(),
                is_bigendian: u8::from(case.is_bigendian),
                data: case.data().as_slice().into(),
                ..Default::default()
            };
            let size = (msg.width, msg.height);
            (raw_image(msg).1, Some(size))
        }
        Message::Compressed(pick, data) => {
            let msg = CompressedImage {
                format: FORMATS[pick as usize % FORMATS.len()].into(),
                data,
                ..Default::default()
            };
            (compressed_image(msg).1, None)
        }
    };
    check_decoded(decode_input(input, &LIMITS), size);
}
