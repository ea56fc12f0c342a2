//! Reading OpenCV's cascade XML files (the format `opencv_traincascade` writes and
//! opencv-python ships in `cv2.data.haarcascades`) into a checked [`Cascade`].
//!
//! Every index and rectangle is checked here, once, so that evaluation can index without
//! bounds surprises: a feature outside the window or a node pointing nowhere is a model
//! error at load time, never a wrong read at run time.

use std::path::Path;

use roxmltree::{Document, Node};

use crate::error::{ConfigError, Result};

/// Stage thresholds are lowered by this much when read, as OpenCV does, so that a window
/// scoring exactly the threshold passes despite rounding in the file.
const THRESHOLD_EPS: f32 = 1e-5;

/// A Haar-like feature: up to three weighted rectangles, upright or rotated by 45°.
#[derive(Debug, Clone, PartialEq)]
pub struct HaarFeature {
    pub tilted: bool,
    /// `(x, y, width, height, weight)`, pixels of the detection window; unused ones have
    /// weight 0.
    pub rects: [(i32, i32, i32, i32, f32); 3],
}

/// A multi-block LBP feature: a 3x3 grid of `width` x `height` blocks from `(x, y)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbpFeature {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

/// The features of a cascade, of one type.
#[derive(Debug, Clone, PartialEq)]
pub enum Features {
    Haar(Vec<HaarFeature>),
    Lbp(Vec<LbpFeature>),
}

/// One split of a weak tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    pub feature: u32,
    /// Ordered features: go left when the value is below this.
    pub threshold: f32,
    /// Child when the test holds / fails: > 0 a node of the same tree, <= 0 the leaf `-n`.
    pub left: i32,
    pub right: i32,
}

/// A weak classifier: a tree of [`Split`]s with `nodes + 1` leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub nodes: Vec<Split>,
    pub leaves: Vec<f32>,
    /// Categorical features (LBP): per node, a 256-bit set of the codes that go left.
    pub subsets: Vec<[u32; 8]>,
}

/// A boosted stage: the sum of its trees' leaves must reach the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub threshold: f32,
    pub trees: Vec<Tree>,
}

/// A boosted cascade of stages over Haar or LBP features, detecting in a window of
/// `window` pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Cascade {
    pub window: (u32, u32),
    pub features: Features,
    pub stages: Vec<Stage>,
}

impl Cascade {
    /// Reads and checks the cascade in file `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::model(path, format!("cannot read: {e}")))?;
        Self::parse(&text).map_err(|reason| ConfigError::model(path, reason).into())
    }

    /// Reads and checks a cascade from the text of its XML file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let document = Document::parse(text).map_err(|e| format!("not XML: {e}"))?;
        let root = document.root_element();
        if root.tag_name().name() != "opencv_storage" {
            return Err("not an OpenCV storage file (no <opencv_storage>)".into());
        }
        let cascade = root
            .children()
            .find(Node::is_element)
            .ok_or("the file holds no cascade")?;
        if cascade.attribute("type_id") == Some("opencv-haar-classifier") {
            return Err(
                "old-format Haar cascade (opencv-haar-classifier); only the format \
                        of opencv_traincascade is read"
                    .into(),
            );
        }
        let stage_type = text_of(cascade, "stageType")?;
        if stage_type.trim() != "BOOST" {
            return Err(format!(
                "stage type {stage_type:?} (only BOOST is supported)"
            ));
        }
        let window = (
            positive(number(cascade, "width")?, "width")?,
            positive(number(cascade, "height")?, "height")?,
        );
        let categories = child(cascade, "featureParams")
            .and_then(|params| number(params, "maxCatCount"))
            .unwrap_or(0);
        let features_node = child(cascade, "features")?;
        let features = match text_of(cascade, "featureType")?.trim() {
            "HAAR" if categories == 0 => Features::Haar(
                items(features_node)
                    .map(haar_feature)
                    .collect::<Result<_, _>>()?,
            ),
            "LBP" if categories == 256 => Features::Lbp(
                items(features_node)
                    .map(lbp_feature)
                    .collect::<Result<_, _>>()?,
            ),
            other => {
                return Err(format!(
                    "feature type {other:?} with {categories} categories (supported: HAAR \
                     with 0, LBP with 256)"
                ))
            }
        };
        let stages = items(child(cascade, "stages")?)
            .map(|node| stage(node, categories > 0))
            .collect::<Result<Vec<_>, _>>()?;
        if stages.is_empty() {
            return Err("the cascade has no stages".into());
        }
        let cascade = Cascade {
            window,
            features,
            stages,
        };
        cascade.check()?;
        Ok(cascade)
    }

    /// Number of features.
    pub fn feature_count(&self) -> usize {
        match &self.features {
            Features::Haar(f) => f.len(),
            Features::Lbp(f) => f.len(),
        }
    }

    /// Whether every tree is a single split (the common, fast case).
    pub fn is_stumps(&self) -> bool {
        self.stages
            .iter()
            .all(|s| s.trees.iter().all(|t| t.nodes.len() == 1))
    }

    /// Every feature inside the window, every node's feature and children in range.
    /// In i64: a file's coordinates can be anything up to i32's limits, and their sums
    /// must not overflow (found by fuzzing: a rectangle at x = 2^31 - 1 overflowed).
    fn check(&self) -> Result<(), String> {
        let (w, h) = (i64::from(self.window.0), i64::from(self.window.1));
        match &self.features {
            Features::Haar(features) => {
                for (i, f) in features.iter().enumerate() {
                    for &(x, y, rw, rh, weight) in &f.rects {
                        if weight == 0.0 {
                            continue;
                        }
                        let (x, y) = (i64::from(x), i64::from(y));
                        let (rw, rh) = (i64::from(rw), i64::from(rh));
                        let inside = if f.tilted {
                            x - rh >= 0 && x + rw <= w && y >= 0 && y + rw + rh <= h
                        } else {
                            x >= 0 && y >= 0 && x + rw <= w && y + rh <= h
                        };
                        if !inside || rw < 0 || rh < 0 {
                            return Err(format!(
                                "feature {i}: rectangle ({x}, {y}, {rw}, {rh}) lies outside \
                                 the {w}x{h} window"
                            ));
                        }
                    }
                }
            }
            Features::Lbp(features) => {
                for (i, f) in features.iter().enumerate() {
                    let (x, y) = (i64::from(f.x), i64::from(f.y));
                    let (fw, fh) = (i64::from(f.width), i64::from(f.height));
                    if x < 0 || y < 0 || fw <= 0 || fh <= 0 || x + 3 * fw > w || y + 3 * fh > h {
                        return Err(format!(
                            "feature {i}: block grid ({}, {}, 3x{}, 3x{}) lies outside the \
                             {w}x{h} window",
                            f.x, f.y, f.width, f.height
                        ));
                    }
                }
            }
        }
        let count = self.feature_count();
        for (s, stage) in self.stages.iter().enumerate() {
            for (t, tree) in stage.trees.iter().enumerate() {
                let nodes = tree.nodes.len() as i64;
                for node in &tree.nodes {
                    let child_ok = |c: i32| {
                        let c = i64::from(c);
                        (c > 0 && c < nodes) || (c <= 0 && -c <= nodes)
                    };
                    if node.feature as usize >= count
                        || !child_ok(node.left)
                        || !child_ok(node.right)
                    {
                        return Err(format!(
                            "stage {s}, tree {t}: a node refers to a feature or child that \
                             does not exist"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Result<Node<'a, 'i>, String> {
    node.children()
        .find(|c| c.has_tag_name(name))
        .ok_or_else(|| format!("<{}> has no <{name}>", node.tag_name().name()))
}

fn text_of<'a>(node: Node<'a, '_>, name: &str) -> Result<&'a str, String> {
    Ok(child(node, name)?.text().unwrap_or(""))
}

fn number<T: std::str::FromStr>(node: Node<'_, '_>, name: &str) -> Result<T, String> {
    let text = text_of(node, name)?;
    text.trim()
        .parse()
        .map_err(|_| format!("<{name}> is not a number: {text:?}"))
}

fn positive(value: i64, name: &str) -> Result<u32, String> {
    u32::try_from(value)
        .ok()
        .filter(|&v| v > 0 && v <= 4096)
        .ok_or_else(|| format!("window {name} {value} is outside 1..4096"))
}

/// The `<_>` items of a sequence node.
fn items<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(Node::is_element)
}

/// The whitespace-separated numbers of a node's text.
fn numbers<T: std::str::FromStr>(node: Node<'_, '_>) -> Result<Vec<T>, String> {
    node.text()
        .unwrap_or("")
        .split_whitespace()
        .map(|word| {
            word.parse()
                .map_err(|_| format!("{word:?} is not a number"))
        })
        .collect()
}

fn haar_feature(node: Node<'_, '_>) -> Result<HaarFeature, String> {
    let mut rects = [(0, 0, 0, 0, 0.0f32); 3];
    let given: Vec<_> = items(child(node, "rects")?).collect();
    if given.is_empty() || given.len() > 3 {
        return Err(format!(
            "a Haar feature has {} rectangles (1..3)",
            given.len()
        ));
    }
    for (slot, rect) in rects.iter_mut().zip(given) {
        let v: Vec<f64> = numbers(rect)?;
        let [x, y, w, h, weight] = v[..] else {
            return Err(format!("a Haar rectangle has {} numbers, not 5", v.len()));
        };
        *slot = (x as i32, y as i32, w as i32, h as i32, weight as f32);
    }
    let tilted = match child(node, "tilted") {
        Ok(t) => t.text().unwrap_or("0").trim() != "0",
        Err(_) => false,
    };
    Ok(HaarFeature { tilted, rects })
}

fn lbp_feature(node: Node<'_, '_>) -> Result<LbpFeature, String> {
    let v: Vec<i32> = numbers(child(node, "rect")?)?;
    let [x, y, width, height] = v[..] else {
        return Err(format!("an LBP rectangle has {} numbers, not 4", v.len()));
    };
    Ok(LbpFeature {
        x,
        y,
        width,
        height,
    })
}

fn stage(node: Node<'_, '_>, categorical: bool) -> Result<Stage, String> {
    let threshold = number::<f64>(node, "stageThreshold")? as f32 - THRESHOLD_EPS;
    let trees = items(child(node, "weakClassifiers")?)
        .map(|weak| tree(weak, categorical))
        .collect::<Result<Vec<_>, _>>()?;
    if trees.is_empty() {
        return Err("a stage has no weak classifiers".into());
    }
    Ok(Stage { threshold, trees })
}

fn tree(node: Node<'_, '_>, categorical: bool) -> Result<Tree, String> {
    // The numbers are kept as text until their role is known: subsets are 32-bit masks
    // written as signed integers, thresholds are decimals.
    let words: Vec<&str> = child(node, "internalNodes")?
        .text()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let leaves: Vec<f32> = numbers::<f64>(child(node, "leafValues")?)?
        .into_iter()
        .map(|v| v as f32)
        .collect();
    let step = if categorical { 3 + 8 } else { 4 };
    if words.is_empty()
        || !words.len().is_multiple_of(step)
        || leaves.len() != words.len() / step + 1
    {
        return Err(format!(
            "a weak classifier has {} node numbers and {} leaves",
            words.len(),
            leaves.len()
        ));
    }
    let int = |w: &str| {
        w.parse::<i64>()
            .map_err(|_| format!("{w:?} is not an integer"))
    };
    let mut nodes = Vec::new();
    let mut subsets = Vec::new();
    for chunk in words.chunks(step) {
        let feature = u32::try_from(int(chunk[2])?).map_err(|_| "negative feature index")?;
        let threshold = if categorical {
            let mut set = [0u32; 8];
            for (bits, word) in set.iter_mut().zip(&chunk[3..]) {
                *bits = int(word)? as i32 as u32;
            }
            subsets.push(set);
            0.0
        } else {
            chunk[3]
                .parse::<f64>()
                .map_err(|_| format!("{:?} is not a number", chunk[3]))? as f32
        };
        nodes.push(Split {
            feature,
            threshold,
            left: int(chunk[0])? as i32,
            right: int(chunk[1])? as i32,
        });
    }
    Ok(Tree {
        nodes,
        leaves,
        subsets,
    })
}

#[cfg(test)]
mod tests;
