//! Unit tests of [`super`] (model).

use super::*;

/// A 24x24 Haar cascade in opencv_traincascade's format: one stage of two stumps on
/// two features, `features` and `nodes` substituted.
fn haar(features: &str, nodes: [&str; 2]) -> String {
    let weak = |n: &str| {
        format!("<_><internalNodes>{n}</internalNodes><leafValues>-1. 1.</leafValues></_>")
    };
    format!(
        "<?xml version=\"1.0\"?><opencv_storage><cascade><stageType>BOOST</stageType>\
         <featureType>HAAR</featureType><height>24</height><width>24</width>\
         <stageParams><maxWeakCount>2</maxWeakCount></stageParams>\
         <featureParams><maxCatCount>0</maxCatCount></featureParams>\
         <stageNum>1</stageNum><stages><_><maxWeakCount>2</maxWeakCount>\
         <stageThreshold>-0.5</stageThreshold><weakClassifiers>{}{}</weakClassifiers>\
         </_></stages><features>{features}</features></cascade></opencv_storage>",
        weak(nodes[0]),
        weak(nodes[1])
    )
}

const TWO_FEATURES: &str = "<_><rects><_>0 0 12 24 -1.</_><_>12 0 12 24 2.</_></rects></_>\
    <_><rects><_>2 2 4 4 -1.</_><_>2 6 4 4 1.</_><_>2 10 4 4 1.</_></rects>\
    <tilted>0</tilted></_>";

#[test]
fn a_haar_cascade_is_read_with_its_window_stages_stumps_and_rectangles() {
    let cascade = Cascade::parse(&haar(TWO_FEATURES, ["0 -1 0 0.25", "0 -1 1 -3.5"])).unwrap();
    assert_eq!(cascade.window, (24, 24));
    assert_eq!(cascade.stages.len(), 1);
    let stage = &cascade.stages[0];
    assert_eq!(stage.threshold, -0.5 - THRESHOLD_EPS);
    assert_eq!(stage.trees.len(), 2);
    assert_eq!(stage.trees[1].nodes[0].feature, 1);
    assert_eq!(stage.trees[1].nodes[0].threshold, -3.5);
    assert_eq!(stage.trees[0].leaves, [-1.0, 1.0]);
    assert!(cascade.is_stumps());
    let Features::Haar(features) = &cascade.features else {
        panic!("Haar features expected");
    };
    assert_eq!(features[0].rects[1], (12, 0, 12, 24, 2.0));
    assert_eq!(features[1].rects[2], (2, 10, 4, 4, 1.0));
    assert!(!features[1].tilted);
}

#[test]
fn what_evaluation_could_read_wrongly_is_refused_at_load_time() {
    let refused = |text: &str| Cascade::parse(text).unwrap_err();
    let outside = "<_><rects><_>20 0 12 24 -1.</_></rects></_>";
    assert!(refused(&haar(outside, ["0 -1 0 0", "0 -1 0 0"])).contains("outside the 24x24 window"));
    let missing = refused(&haar(TWO_FEATURES, ["0 -1 0 0", "0 -1 7 0"]));
    assert!(
        missing.contains("feature or child that does not exist"),
        "{missing}"
    );
    let child = refused(&haar(TWO_FEATURES, ["0 5 0 0", "0 -1 0 0"]));
    assert!(child.contains("does not exist"), "{child}");
    let word = refused(&haar(TWO_FEATURES, ["0 -1 0 x", "0 -1 0 0"]));
    assert!(word.contains("\"x\" is not a number"), "{word}");
    assert!(refused("<nope/>").contains("no <opencv_storage>"));
    assert!(refused("not xml").contains("not XML"));
    let old = "<opencv_storage><c type_id=\"opencv-haar-classifier\"/></opencv_storage>";
    assert!(refused(old).contains("old-format"));
}
