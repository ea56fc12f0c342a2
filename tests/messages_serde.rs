//! The generated interface crates under serde (ros-env's `serde` feature, the derives
//! rosidl_rs_gen writes behind `feature = "serde"`): messages through JSON and back.

use ros_env::geometry_msgs::msg::PoseWithCovariance;
use ros_env::rust_vision::msg::{Detection, DetectionArray};

#[test]
fn a_detection_array_round_trips_through_json() {
    let mut msg = DetectionArray {
        image_width: 640,
        image_height: 480,
        sequence: 7,
        latency: 0.0125,
        ..Default::default()
    };
    msg.header.frame_id = "camera_optical".into();
    msg.header.stamp.sec = 1_700_000_000;
    msg.detections = vec![Detection {
        x: 10.0,
        y: 20.5,
        width: 30.0,
        height: 40.0,
        class_id: 2,
        label: "face".into(),
        score: 0.9,
        objectness: 0.8,
        classification_label: "red".into(),
        classification_score: 0.75,
        track_id: 12,
    }];
    let json = serde_json::to_value(&msg).unwrap();
    assert_eq!(json["header"]["frame_id"], "camera_optical");
    assert_eq!(json["detections"][0]["label"], "face");
    assert_eq!(json["detections"][0]["classification_score"], 0.75);
    assert_eq!(json["detections"][0]["track_id"], 12);
    let back: DetectionArray = serde_json::from_value(json).unwrap();
    assert_eq!(back, msg);
}

#[test]
fn arrays_longer_than_serde_handles_round_trip_too() {
    let mut msg = PoseWithCovariance::default();
    msg.covariance[35] = 2.5;
    let text = serde_json::to_string(&msg).unwrap();
    let back: PoseWithCovariance = serde_json::from_str(&text).unwrap();
    assert_eq!(back.covariance[35], 2.5);
    assert_eq!(back, msg);
}
