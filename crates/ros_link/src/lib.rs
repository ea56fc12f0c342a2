//! Build-script helper that links a Rust ROS 2 binary against the installation on
//! `AMENT_PREFIX_PATH`, and works around the PyPI ROS 2 wheels' quirks when (and only
//! when) that installation is such a venv.
//!
//! A sourced ROS 2 installation (`/opt/ros/<distro>`, a colcon workspace) needs nothing
//! from here: its `setup.sh` provides the library path. The wheels differ:
//! - they ship no `librmw_implementation.so` (librcl links `librmw_fastrtps_cpp` directly),
//!   yet rclrs links `-lrmw_implementation`;
//! - librcl depends on `*__rosidl_generator_py.so`, which need libpython's symbols;
//! - their own RPATHs do not resolve from `<venv>/lib`, so the binary carries an RPATH to
//!   `<venv>/lib`, every `site-packages/ros_*.libs` and every other prefix's `lib`.
//!
//! Call [`configure`] from `build.rs`; it prints `cargo:` instructions.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `AMENT_PREFIX_PATH` entries, in order.
pub fn ament_prefixes() -> Vec<PathBuf> {
    env::var_os("AMENT_PREFIX_PATH")
        .map(|v| {
            env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The prefix that provides `lib/librcl.so` (not simply the first entry: an overlay of
/// generated crates or custom messages usually comes first).
pub fn rcl_prefix(prefixes: &[PathBuf]) -> Option<&Path> {
    prefixes
        .iter()
        .map(PathBuf::as_path)
        .find(|p| p.join("lib/librcl.so").is_file())
}

/// Whether a prefix is a Python venv holding the PyPI ROS 2 wheels.
pub fn is_wheel_prefix(prefix: &Path) -> bool {
    prefix.join("pyvenv.cfg").is_file()
}

/// Emit the link and rpath instructions for the installation on `AMENT_PREFIX_PATH`.
///
/// # Panics
/// With a message saying what is missing, when the wheel venv's Python cannot be asked
/// for its library, or `OUT_DIR` is not set (not called from a build script).
pub fn configure() {
    println!("cargo:rerun-if-env-changed=AMENT_PREFIX_PATH");
    let prefixes = ament_prefixes();
    // rclrs adds these too, but its build script does not rerun when AMENT_PREFIX_PATH
    // changes, so a cached build would keep linking against the previous prefixes.
    for lib in prefixes
        .iter()
        .map(|p| p.join("lib"))
        .filter(|p| p.is_dir())
    {
        println!("cargo:rustc-link-search=native={}", lib.display());
    }
    let Some(rcl) = rcl_prefix(&prefixes) else {
        println!(
            "cargo:warning=no lib/librcl.so on AMENT_PREFIX_PATH: source a ROS 2 setup or run `make ros-env`"
        );
        return;
    };
    if !is_wheel_prefix(rcl) {
        return;
    }
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR: call from build.rs"));
    provide_rmw_implementation(rcl, &out_dir);

    let (py_libdir, py_lib) = python_library(rcl);
    println!("cargo:rustc-link-search=native={}", py_libdir.display());
    // Not as-needed: nothing in the binary itself uses libpython, the wheels' libraries do.
    println!("cargo:rustc-link-arg=-Wl,--push-state,--no-as-needed,-l{py_lib},--pop-state");

    let mut rpath: Vec<PathBuf> = prefixes
        .iter()
        .map(|p| p.join("lib"))
        .filter(|p| p.is_dir())
        .collect();
    rpath.extend(wheel_lib_dirs(rcl));
    rpath.push(py_libdir);
    let joined = env::join_paths(&rpath).expect("prefix paths contain no ':'");
    // DT_RPATH, not DT_RUNPATH: only DT_RPATH is searched for the wheels' own dependencies.
    println!(
        "cargo:rustc-link-arg=-Wl,--disable-new-dtags,-rpath,{}",
        joined.to_string_lossy()
    );
}

/// `-lrmw_implementation` resolves to the RMW the wheels' librcl is linked with.
fn provide_rmw_implementation(rcl: &Path, out_dir: &Path) {
    if rcl.join("lib/librmw_implementation.so").exists() {
        return;
    }
    let link = out_dir.join("librmw_implementation.so");
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(rcl.join("lib/librmw_fastrtps_cpp.so"), &link)
        .expect("symlink librmw_implementation.so in OUT_DIR");
    println!("cargo:rustc-link-search=native={}", out_dir.display());
}

/// (directory, link name) of the shared libpython of the venv's interpreter.
fn python_library(venv: &Path) -> (PathBuf, String) {
    let python = venv.join("bin/python3");
    let script = "import sysconfig as s; print(s.get_config_var('LIBDIR')); \
                  print(s.get_config_var('LDVERSION'))";
    let out = Command::new(&python)
        .args(["-c", script])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (Some(dir), Some(version)) if out.status.success() => {
            (PathBuf::from(dir), format!("python{version}"))
        }
        _ => panic!(
            "{} did not report its library: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// `<venv>/lib/python3.X/site-packages/ros_*.libs`: the wheels' bundled libraries.
fn wheel_lib_dirs(venv: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for lib in std::fs::read_dir(venv.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let site = lib.path().join("site-packages");
        for entry in std::fs::read_dir(site).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("ros_") && name.ends_with(".libs") {
                dirs.push(entry.path());
            }
        }
    }
    dirs.sort();
    dirs
}
