//! Python helpers of the test harness (the SMTP server, the Web Push receiver):
//! their packages come from PyPI on first use, into the target folder, so `cargo
//! test` on a fresh clone needs no set-up step.

use std::path::{Path, PathBuf};

use tokio::process::Command;

/// A test that needs Python could not have it: skipped, unless `require` (an
/// environment variable, set in CI) says it must run.
pub fn unavailable(require: &str, what: &str, why: &str) {
    assert!(
        std::env::var(require).as_deref() != Ok("1"),
        "{what} are required ({require}=1): {why}"
    );
    super::skipped(format!("{what} need Python 3 with pip: {why}"));
}

/// Installs `requirements` into `target` unless `marker` (a package folder) is
/// there. pip writes to a folder of its own, moved into place when done, so two
/// `cargo test` runs at once never see a half-made one.
pub async fn install(requirements: PathBuf, target: &str, marker: &str) -> Result<(), String> {
    let installed = Path::new(target);
    if installed.join(marker).exists() {
        return Ok(());
    }
    let work =
        PathBuf::from(format!("{target}.{}-{:08x}", std::process::id(), rand::random::<u32>()));
    let out = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target"])
        .arg(&work)
        .arg("-r")
        .arg(requirements)
        .output()
        .await
        .map_err(|err| format!("python3 could not be run ({err})"))?;
    let result = if !out.status.success() {
        Err(format!("pip failed: {}", String::from_utf8_lossy(&out.stderr)))
    } else {
        match std::fs::rename(&work, installed) {
            Ok(()) => Ok(()),
            Err(_) if installed.join(marker).exists() => Ok(()),
            Err(err) => Err(format!("could not move the packages into place: {err}")),
        }
    };
    let _ = std::fs::remove_dir_all(&work);
    result
}
