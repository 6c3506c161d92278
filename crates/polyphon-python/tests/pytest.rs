//! Runs the Python package's tests (`tests/python` at the repository root) against the module
//! this workspace build just compiled, so that no second build of the crates is needed: the
//! library `lib_native.so` that cargo built beside this test is staged as
//! `polyphon/_native.abi3.so` next to the package's Python files, and `POLYPHON_PYTHON -m
//! pytest` runs with it on `PYTHONPATH`.
//!
//! `POLYPHON_PYTHON` names a Python with numpy and pytest (`.ci/run` makes a venv); where it is
//! unset the test says so and passes, as the ONNX Runtime tests do without their library.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The compiled module: `lib_native.so` beside this test in `target/<profile>/deps/`, where
/// `cargo test` leaves the library it built, else in `target/<profile>/` (`cargo build`).
fn compiled_module() -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let deps = test.parent().expect("target/<profile>/deps");
    let name = format!(
        "{}_native{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let beside = deps.join(&name);
    match beside.is_file() {
        true => beside,
        false => deps.parent().expect("target/<profile>").join(name),
    }
}

#[test]
fn the_python_package_passes_its_tests() {
    let Some(python) = std::env::var_os("POLYPHON_PYTHON") else {
        eprintln!("POLYPHON_PYTHON is unset: the Python tests do not run (see .ci/run)");
        return;
    };
    let module = compiled_module();
    assert!(module.is_file(), "{} was not built", module.display());
    let staged = tempfile::tempdir().unwrap();
    let package = staged.path().join("polyphon");
    std::fs::create_dir(&package).unwrap();
    for entry in std::fs::read_dir(workspace().join("python/polyphon")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, package.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(&module, package.join("_native.abi3.so")).unwrap();
    let binary = workspace().join("target/debug/polyphon");
    let status = Command::new(python)
        .args(["-m", "pytest", "-q", "tests/python"])
        .current_dir(workspace())
        .env("PYTHONPATH", staged.path())
        .env(
            "POLYPHON_BIN",
            std::env::var_os("CARGO_BIN_EXE_polyphon").unwrap_or(binary.into()),
        )
        .status()
        .expect("POLYPHON_PYTHON runs");
    assert!(status.success(), "pytest failed: {status}");
}
