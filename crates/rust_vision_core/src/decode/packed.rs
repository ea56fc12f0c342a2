//! Rows of packed pixels -> RGB: 8-bit RGB/BGR(A), mono8/16 and YUV 4:2:2.
//!
//! Written by hand: the image crate has no YUV or 16-bit-mono-to-RGB8 row conversion,
//! and YUV must match OpenCV's fixed-point arithmetic bit for bit.

use super::Encoding;

/// Converts one row of packed pixels (no padding) to RGB.
pub(super) fn convert_row(encoding: Encoding, big_endian: bool, src: &[u8], dst: &mut [u8]) {
    let px = dst.chunks_exact_mut(3);
    match encoding {
        Encoding::Rgb8 => dst.copy_from_slice(src),
        Encoding::Bgr8 => {
            for (s, d) in src.chunks_exact(3).zip(px) {
                d.copy_from_slice(&[s[2], s[1], s[0]]);
            }
        }
        Encoding::Rgba8 => {
            for (s, d) in src.chunks_exact(4).zip(px) {
                d.copy_from_slice(&s[..3]);
            }
        }
        Encoding::Bgra8 => {
            for (s, d) in src.chunks_exact(4).zip(px) {
                d.copy_from_slice(&[s[2], s[1], s[0]]);
            }
        }
        Encoding::Mono8 => {
            for (&v, d) in src.iter().zip(px) {
                d.fill(v);
            }
        }
        Encoding::Mono16 => {
            // The high byte is the most significant one whatever the byte order.
            let high = usize::from(!big_endian);
            for (s, d) in src.chunks_exact(2).zip(px) {
                d.fill(s[high]);
            }
        }
        Encoding::Uyvy => yuv422_row::<true>(src, dst),
        Encoding::Yuyv => yuv422_row::<false>(src, dst),
        Encoding::Bayer(_) => unreachable!("Bayer images are demosaiced as a whole"),
    }
}

/// One row of YUV 4:2:2 pairs (U Y0 V Y1 when `UYVY`, else Y0 U Y1 V) to RGB.
fn yuv422_row<const UYVY: bool>(src: &[u8], dst: &mut [u8]) {
    let [y0, u, y1, v] = if UYVY { [1, 0, 3, 2] } else { [0, 1, 2, 3] };
    let t = yuv_tables();
    for (s, d) in src.chunks_exact(4).zip(dst.chunks_exact_mut(6)) {
        let (u, v) = (usize::from(s[u]), usize::from(s[v]));
        let (r, g, b) = (t.vr[v], t.vg[v] + t.ug[u], t.ub[u]);
        let (ya, yb) = (t.y[usize::from(s[y0])], t.y[usize::from(s[y1])]);
        d[0] = clamp_shift(ya + r);
        d[1] = clamp_shift(ya + g);
        d[2] = clamp_shift(ya + b);
        d[3] = clamp_shift(yb + r);
        d[4] = clamp_shift(yb + g);
        d[5] = clamp_shift(yb + b);
    }
}

/// BT.601 limited-range YUV to RGB in OpenCV's fixed-point arithmetic (20-bit
/// coefficients), so results agree with cv2.cvtColor(..., COLOR_YUV2RGB_UYVY): each
/// channel is `(y_term + chroma_term + 2^19) >> 20`, clamped; the terms come from tables.
struct YuvTables {
    y: [i32; 256],
    vr: [i32; 256],
    vg: [i32; 256],
    ug: [i32; 256],
    ub: [i32; 256],
}

const YUV_SHIFT: i32 = 20;

fn yuv_tables() -> &'static YuvTables {
    static TABLES: std::sync::OnceLock<YuvTables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        const CY: i32 = 1_220_542;
        const CVR: i32 = 1_673_527;
        const CVG: i32 = -852_492;
        const CUG: i32 = -409_993;
        const CUB: i32 = 2_116_026;
        let half = 1 << (YUV_SHIFT - 1);
        let table = |f: &dyn Fn(i32) -> i32| std::array::from_fn(|i| f(i as i32));
        YuvTables {
            // The rounding half goes into the Y term, which every channel adds once.
            y: table(&|y| (y - 16).max(0) * CY + half),
            vr: table(&|v| CVR * (v - 128)),
            vg: table(&|v| CVG * (v - 128)),
            ug: table(&|u| CUG * (u - 128)),
            ub: table(&|u| CUB * (u - 128)),
        }
    })
}

fn clamp_shift(x: i32) -> u8 {
    (x >> YUV_SHIFT).clamp(0, 255) as u8
}
