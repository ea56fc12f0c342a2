//! Unit tests of [`super`] (params).

use super::*;
use rust_vision_core::schema::Kind;

/// `2^40`, `1000`, `0.001` as a number.
fn number(text: &str) -> f64 {
    match text.split_once('^') {
        Some((base, exp)) => number(base).powf(number(exp)),
        None => text
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {text}")),
    }
}

/// The README's parameter table: name, type, default, range, runtime.
fn readme_rows() -> Vec<[String; 5]> {
    let readme = include_str!("../../README.md");
    let table = readme
        .split("| parameter | type | default | range | runtime | meaning |")
        .nth(1)
        .expect("the README has the parameter table");
    table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let cells: Vec<_> = line
                .split(" | ")
                .map(|c| c.trim_matches('|').trim())
                .collect();
            std::array::from_fn(|i| cells[i].to_string())
        })
        .collect()
}

#[test]
fn no_name_is_the_prefix_of_a_group_of_others() {
    // `ros2 param dump` and nested parameter files write `a.b` as key `b` under `a`,
    // which cannot also hold a value of its own.
    let names: Vec<_> = parameters().map(|doc| doc.name).collect();
    for name in &names {
        let group = format!("{name}.");
        let clash: Vec<_> = names.iter().filter(|n| n.starts_with(&group)).collect();
        assert!(clash.is_empty(), "{name} is also the group of {clash:?}");
    }
}

#[test]
fn the_readme_table_is_the_schema() {
    let rows = readme_rows();
    let docs: Vec<_> = parameters().collect();
    let names: Vec<_> = rows.iter().map(|r| r[0].trim_matches('`')).collect();
    assert_eq!(names, docs.iter().map(|d| d.name).collect::<Vec<_>>());
    for (row, doc) in rows.iter().zip(docs) {
        let [_, kind, default, range, runtime] = row;
        let context = format!("README row of {}", doc.name);
        assert_eq!(runtime == "yes", doc.runtime(), "{context}");
        let expected_kind = match doc.kind {
            Kind::Int { .. } => "int",
            Kind::Double { .. } => "double",
            Kind::Choice { .. } | Kind::Text { .. } => "string",
            Kind::Bool { .. } => "bool",
        };
        assert_eq!(kind, expected_kind, "{context}");
        let (min, max) = range.split_once("..").unwrap_or(("", ""));
        match doc.kind {
            Kind::Int {
                value,
                min: lo,
                max: hi,
            } => {
                assert_eq!(number(default), value as f64, "{context}");
                assert_eq!(
                    (number(min), number(max)),
                    (lo as f64, hi as f64),
                    "{context}"
                );
            }
            Kind::Double {
                value,
                min: lo,
                max: hi,
            } => {
                assert_eq!(number(default), value, "{context}");
                assert_eq!((number(min), number(max)), (lo, hi), "{context}");
            }
            Kind::Choice { value, choices } => {
                assert_eq!(default.trim_matches('`'), value, "{context}");
                let listed: Vec<_> = range.split(", ").map(|c| c.trim_matches('`')).collect();
                assert_eq!(listed, choices, "{context}");
            }
            Kind::Text { value } => {
                assert_eq!(
                    default.trim_matches('`').trim_matches('"'),
                    value,
                    "{context}"
                );
                assert!(["path", "any"].contains(&range.as_str()), "{context}");
            }
            Kind::Bool { value } => {
                assert_eq!(default.trim_matches('`'), value.to_string(), "{context}");
                assert_eq!(range, "`true`, `false`", "{context}");
            }
        }
    }
}

#[test]
fn defaults_and_errors() {
    let mut config = NodeConfig::defaults();
    assert_eq!(config.qos_depth, 5);
    let e = config.set("qos_depth", &Value::Int(5000)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter `qos_depth`: 5000 is outside 1..1000"
    );
    let e = config.set("bogus", &Value::Int(1)).unwrap_err();
    assert_eq!(e.to_string(), "parameter `bogus`: no such parameter");
    config.set("blobs.min_area", &Value::Int(500)).unwrap();
    assert!(config.set("blobs.max_area", &Value::Int(10)).is_err());
    assert_eq!(
        config.pipeline.blobs.max_area, 0,
        "unchanged after a refusal"
    );
}
