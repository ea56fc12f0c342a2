#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rust_vision_fuzz::decode_compressed(data));
