//! How YOLO-family models lay out their output, which layout a model has (the
//! `onnx.layout` parameter, else Ultralytics' metadata, else the output's shape where it
//! can only be one), and decoding each layout into candidate boxes in input pixels.
//!
//! Shapes alone are ambiguous: `1 x 300 x 6` fits YOLOv10's end-to-end boxes, RT-DETR
//! with 2 classes and YOLOv5 with 1, so such a model is refused rather than guessed at.

use std::collections::BTreeMap;

crate::choice! {
    /// The output layout a model is read with (`onnx.layout`).
    pub enum LayoutChoice for "onnx.layout" {
        /// From Ultralytics' metadata, else from the output's shape where it fits one layout.
        Auto = "auto",
        Yolov5 = "yolov5",
        /// YOLOv8, YOLO11 and one-to-many YOLO26 exports.
        Yolov8 = "yolov8",
        /// NMS-free end-to-end boxes: YOLOv10, YOLO26, exports with `nms=True`.
        End2End = "end2end",
        RtDetr = "rtdetr",
    }
}

/// How a YOLO-family model lays out its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `1 x N x (5 + C)`: per box cx, cy, w, h, objectness, then C class scores.
    V5 { boxes: usize, classes: usize },
    /// `1 x (4 + C) x N`: per box (in columns) cx, cy, w, h, then C class scores.
    V8 { boxes: usize, classes: usize },
    /// `1 x N x 6`: per box x1, y1, x2, y2, score, class; already suppressed.
    EndToEnd { boxes: usize },
    /// `1 x N x (4 + C)`: per box cx, cy, w, h as fractions of the input, then C class
    /// scores; a set prediction, so no suppression.
    RtDetr { boxes: usize, classes: usize },
}

impl Layout {
    /// The layout of an output of `shape` from a model with `metadata` and an input of
    /// `(width, height)`, as `choice` asks; the error says why and what to set.
    pub fn resolve(
        choice: LayoutChoice,
        shape: &[usize],
        metadata: &BTreeMap<String, String>,
        input: (u32, u32),
    ) -> Result<Self, String> {
        let [1, rows, cols] = *shape else {
            return Err(format!(
                "output shape {shape:?} is not 1 x rows x columns, as YOLO layouts are"
            ));
        };
        let choice = match choice {
            LayoutChoice::Auto => match from_metadata(metadata) {
                Some(choice) => choice,
                None => from_shape(rows, cols, input)?,
            },
            chosen => chosen,
        };
        Self::fit(choice, rows, cols).ok_or_else(|| {
            format!(
                "output shape {shape:?} is not {} (onnx.layout {})",
                describe(choice),
                choice.name()
            )
        })
    }

    /// `choice` read on a `1 x rows x cols` output, where the shape fits it.
    fn fit(choice: LayoutChoice, rows: usize, cols: usize) -> Option<Self> {
        match choice {
            LayoutChoice::Yolov5 if cols >= 6 => Some(Layout::V5 {
                boxes: rows,
                classes: cols - 5,
            }),
            LayoutChoice::Yolov8 if rows >= 5 => Some(Layout::V8 {
                boxes: cols,
                classes: rows - 4,
            }),
            LayoutChoice::End2End if cols == 6 => Some(Layout::EndToEnd { boxes: rows }),
            LayoutChoice::RtDetr if cols >= 5 => Some(Layout::RtDetr {
                boxes: rows,
                classes: cols - 4,
            }),
            _ => None,
        }
    }

    /// How many classes the output scores; `None` where it names the class instead.
    pub fn classes(&self) -> Option<usize> {
        match *self {
            Layout::V5 { classes, .. }
            | Layout::V8 { classes, .. }
            | Layout::RtDetr { classes, .. } => Some(classes),
            Layout::EndToEnd { .. } => None,
        }
    }

    /// How many values an output of this layout holds, `None` past `usize`.
    pub fn values(&self) -> Option<usize> {
        let (boxes, per_box) = match *self {
            Layout::V5 { boxes, classes } => (boxes, classes.checked_add(5)?),
            Layout::V8 { boxes, classes } | Layout::RtDetr { boxes, classes } => {
                (boxes, classes.checked_add(4)?)
            }
            Layout::EndToEnd { boxes } => (boxes, 6),
        };
        boxes.checked_mul(per_box)
    }

    /// Whether overlapping boxes are still to be suppressed (the model did not).
    pub fn needs_suppression(&self) -> bool {
        matches!(self, Layout::V5 { .. } | Layout::V8 { .. })
    }
}

fn describe(choice: LayoutChoice) -> &'static str {
    match choice {
        LayoutChoice::Yolov5 => "YOLOv5's 1 x boxes x (5 + classes)",
        LayoutChoice::Yolov8 => "YOLOv8's 1 x (4 + classes) x boxes",
        LayoutChoice::End2End => "the end-to-end 1 x boxes x 6 (x1, y1, x2, y2, score, class)",
        LayoutChoice::RtDetr => "RT-DETR's 1 x boxes x (4 + classes)",
        LayoutChoice::Auto => "a YOLO layout",
    }
}

/// The layout Ultralytics' export metadata states: `end2end` (YOLOv10, YOLO26), `nms`
/// among the export arguments, or an RT-DETR or YOLOv10 model in the description.
fn from_metadata(metadata: &BTreeMap<String, String>) -> Option<LayoutChoice> {
    let description = metadata
        .get("description")
        .map(|d| d.to_lowercase())
        .unwrap_or_default();
    let exported_with_nms = metadata
        .get("args")
        .is_some_and(|args| args.contains("'nms': True"));
    match metadata.get("end2end").map(|v| v.trim()) {
        Some("True" | "true") => return Some(LayoutChoice::End2End),
        _ if exported_with_nms => return Some(LayoutChoice::End2End),
        Some(_) => {}
        None if description.contains("yolov10") => return Some(LayoutChoice::End2End),
        None => {}
    }
    ["rtdetr", "rt-detr"]
        .iter()
        .any(|name| description.contains(name))
        .then_some(LayoutChoice::RtDetr)
}

/// The layout a `1 x rows x cols` output must have, where only one fits: boxes in
/// columns are YOLOv8's; boxes in rows are YOLOv5's only when there are as many as its
/// three anchors at strides 8, 16 and 32 give for `input`.
fn from_shape(
    rows: usize,
    cols: usize,
    (width, height): (u32, u32),
) -> Result<LayoutChoice, String> {
    if cols > rows && rows >= 5 {
        return Ok(LayoutChoice::Yolov8);
    }
    let cells: usize = [8, 16, 32]
        .iter()
        .map(|s| width.div_ceil(*s) as usize * height.div_ceil(*s) as usize)
        .sum();
    if rows == 3 * cells && cols >= 6 {
        return Ok(LayoutChoice::Yolov5);
    }
    let fitting: Vec<String> = [
        LayoutChoice::End2End,
        LayoutChoice::RtDetr,
        LayoutChoice::Yolov5,
    ]
    .into_iter()
    .filter(|c| Layout::fit(*c, rows, cols).is_some())
    .map(|c| format!("{} ({})", describe(c), c.name()))
    .collect();
    if fitting.is_empty() {
        return Err(format!(
            "output shape [1, {rows}, {cols}] is none of the YOLO layouts; see onnx.layout"
        ));
    }
    Err(format!(
        "output shape [1, {rows}, {cols}] is ambiguous: it may be {}; the model's metadata \
         does not say which, so set onnx.layout",
        fitting.join(", or ")
    ))
}

/// A candidate box in input pixels.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(test, derive(PartialEq))]
pub struct Candidate {
    pub corners: [f32; 4],
    pub class: usize,
    pub score: f32,
    pub objectness: f32,
}

fn corners(cx: f32, cy: f32, w: f32, h: f32) -> [f32; 4] {
    [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
}

/// The best class of `scores` and its score.
fn best(scores: impl Iterator<Item = f32>) -> (usize, f32) {
    scores.enumerate().fold(
        (0, f32::MIN),
        |best, (c, s)| if s > best.1 { (c, s) } else { best },
    )
}

/// The candidates scoring at least `confidence` in a raw `output` of `layout`, from a
/// model with an input of `(width, height)`; an output of any other length than the
/// layout's (a model with dynamic output dimensions) is refused, not read past its end.
pub fn decode(
    output: &[f32],
    layout: Layout,
    confidence: f32,
    input: (u32, u32),
) -> Result<Vec<Candidate>, String> {
    let expected = layout.values();
    if expected != Some(output.len()) {
        return Err(format!(
            "the model's output has {} values where the shape it was loaded with has {}",
            output.len(),
            expected.map_or("more than can be counted".into(), |n| n.to_string())
        ));
    }
    let mut out = Vec::new();
    let mut keep = |corners, class, score: f32, objectness| {
        if score >= confidence {
            out.push(Candidate {
                corners,
                class,
                score,
                objectness,
            });
        }
    };
    match layout {
        Layout::V8 { boxes, classes } => {
            let at = |row: usize, i: usize| output[row * boxes + i];
            for i in 0..boxes {
                let (class, score) = best((0..classes).map(|c| at(4 + c, i)));
                let corners = corners(at(0, i), at(1, i), at(2, i), at(3, i));
                keep(corners, class, score, score);
            }
        }
        Layout::V5 { boxes, classes } => {
            for row in output.chunks_exact(5 + classes).take(boxes) {
                let objectness = row[4];
                if objectness >= confidence {
                    let (class, score) = best(row[5..].iter().copied());
                    let corners = corners(row[0], row[1], row[2], row[3]);
                    keep(corners, class, objectness * score, objectness);
                }
            }
        }
        Layout::EndToEnd { boxes } => {
            for row in output.chunks_exact(6).take(boxes) {
                // A class that is no index (negative, fractional garbage, NaN) is no box.
                let class = row[5].round();
                if (0.0..1e6).contains(&class) {
                    let corners = [row[0], row[1], row[2], row[3]];
                    keep(corners, class as usize, row[4], row[4]);
                }
            }
        }
        Layout::RtDetr { boxes, classes } => {
            let (w, h) = (input.0 as f32, input.1 as f32);
            for row in output.chunks_exact(4 + classes).take(boxes) {
                let (class, score) = best(row[4..].iter().copied());
                let corners = corners(row[0] * w, row[1] * h, row[2] * w, row[3] * h);
                keep(corners, class, score, score);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: (u32, u32) = (640, 640);

    fn auto(shape: &[usize], metadata: &[(&str, &str)]) -> Result<Layout, String> {
        let metadata = metadata
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Layout::resolve(LayoutChoice::Auto, shape, &metadata, INPUT)
    }

    #[test]
    fn unambiguous_shapes_need_no_metadata() {
        let v8 = Layout::V8 {
            boxes: 8400,
            classes: 80,
        };
        assert_eq!(auto(&[1, 84, 8400], &[]), Ok(v8));
        let v5 = Layout::V5 {
            boxes: 25200,
            classes: 80,
        };
        assert_eq!(auto(&[1, 25200, 85], &[]), Ok(v5));
        assert!(auto(&[1, 1000], &[]).is_err());
        assert!(auto(&[2, 84, 8400], &[]).is_err());
    }

    #[test]
    fn ambiguous_shapes_are_refused_naming_the_parameter() {
        let error = auto(&[1, 300, 6], &[]).unwrap_err();
        assert!(
            error.contains("ambiguous") && error.contains("onnx.layout"),
            "{error}"
        );
        assert!(
            error.contains("end2end") && error.contains("rtdetr"),
            "{error}"
        );
        let error = auto(&[1, 300, 84], &[]).unwrap_err();
        assert!(
            error.contains("rtdetr") && error.contains("yolov5"),
            "{error}"
        );
        assert!(!error.contains("end2end"), "{error}");
    }

    #[test]
    fn ultralytics_metadata_settles_the_layout() {
        let e2e = Layout::EndToEnd { boxes: 300 };
        assert_eq!(auto(&[1, 300, 6], &[("end2end", "True")]), Ok(e2e));
        let args = "{'batch': 1, 'nms': True}";
        assert_eq!(auto(&[1, 300, 6], &[("args", args)]), Ok(e2e));
        let v10 = "Ultralytics YOLOv10n model trained on coco.yaml";
        assert_eq!(auto(&[1, 300, 6], &[("description", v10)]), Ok(e2e));
        let detr = "Ultralytics rtdetr-l model trained on coco.yaml";
        let rtdetr = Layout::RtDetr {
            boxes: 300,
            classes: 80,
        };
        assert_eq!(auto(&[1, 300, 84], &[("description", detr)]), Ok(rtdetr));
        // YOLO26 exported one-to-many says end2end False: its shape is YOLOv8's.
        let v8 = auto(&[1, 84, 8400], &[("end2end", "False")]).unwrap();
        assert!(matches!(v8, Layout::V8 { .. }));
        // Metadata that contradicts the shape is an error naming the parameter.
        let error = auto(&[1, 84, 8400], &[("end2end", "True")]).unwrap_err();
        assert!(error.contains("onnx.layout end2end"), "{error}");
    }

    #[test]
    fn the_parameter_overrides_shape_and_metadata() {
        let none = BTreeMap::new();
        let pick = |choice, shape: &[usize]| Layout::resolve(choice, shape, &none, INPUT);
        let rtdetr = Layout::RtDetr {
            boxes: 300,
            classes: 2,
        };
        assert_eq!(pick(LayoutChoice::RtDetr, &[1, 300, 6]), Ok(rtdetr));
        let v5 = Layout::V5 {
            boxes: 300,
            classes: 1,
        };
        assert_eq!(pick(LayoutChoice::Yolov5, &[1, 300, 6]), Ok(v5));
        assert!(pick(LayoutChoice::End2End, &[1, 300, 7]).is_err());
    }

    #[test]
    fn an_output_of_another_length_than_its_shape_is_refused() {
        // A model whose output dimensions vary with the input: V8 read it past its end.
        let layout = Layout::V8 {
            boxes: 3,
            classes: 2,
        };
        assert!(decode(&[0.5; 17], layout, 0.25, INPUT)
            .unwrap_err()
            .contains("has 17 values where the shape it was loaded with has 18"));
        assert!(decode(&[0.5; 18], layout, 0.25, INPUT).is_ok());
        let huge = Layout::EndToEnd { boxes: usize::MAX };
        assert!(decode(&[], huge, 0.25, INPUT).is_err());
    }

    #[test]
    fn each_layout_decodes_to_input_pixels() {
        let e2e = [
            10.0, 20.0, 30.0, 60.0, 0.9, 2.0, 0.0, 0.0, 1.0, 1.0, 0.1, 0.0,
        ];
        let got = decode(&e2e, Layout::EndToEnd { boxes: 2 }, 0.25, INPUT).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].corners, got[0].class),
            ([10.0, 20.0, 30.0, 60.0], 2)
        );
        let detr = [0.5, 0.25, 0.1, 0.2, 0.1, 0.7];
        let layout = Layout::RtDetr {
            boxes: 1,
            classes: 2,
        };
        let got = decode(&detr, layout, 0.25, INPUT).unwrap();
        assert_eq!(got[0].corners, [288.0, 96.0, 352.0, 224.0]);
        assert_eq!((got[0].class, got[0].score), (1, 0.7));
        // A class that is no index is no box.
        let bad = [
            0.0,
            0.0,
            1.0,
            1.0,
            0.9,
            f32::NAN,
            0.0,
            0.0,
            1.0,
            1.0,
            0.9,
            -3.0,
        ];
        assert!(decode(&bad, Layout::EndToEnd { boxes: 2 }, 0.25, INPUT)
            .unwrap()
            .is_empty());
    }
}
