//! Compiles the C layout probe that `rosidl_rs_gen --layout-probe` wrote into the overlay,
//! against the headers of the installation, and hands the generated Rust tests to lib.rs.

use std::path::PathBuf;

fn main() {
    ros_link::configure();
    let prefixes = ros_link::ament_prefixes();
    let probe_dir = prefixes
        .iter()
        .map(|p| p.join("share/rosidl_rs_gen_layout"))
        .find(|d| d.join("probe.c").is_file())
        .unwrap_or_else(|| {
            panic!(
                "no share/rosidl_rs_gen_layout/probe.c on AMENT_PREFIX_PATH: run `make interfaces`"
            )
        });
    let probe = probe_dir.join("probe.c");
    let tests = probe_dir.join("tests.rs");
    println!("cargo:rerun-if-changed={}", probe.display());
    println!("cargo:rerun-if-changed={}", tests.display());
    println!("cargo:rustc-env=LAYOUT_TESTS_RS={}", tests.display());

    let mut build = cc::Build::new();
    build.file(&probe).warnings(true);
    for include in prefixes.iter().map(|p| p.join("include")) {
        // Since Humble a package's headers sit one level deeper: include/<pkg>/<pkg>/...
        let nested: Vec<PathBuf> = std::fs::read_dir(&include)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        build.includes(nested);
        build.include(&include);
    }
    build.compile("rv_layout_probe");
}
