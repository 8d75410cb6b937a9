//! Python helpers of the test harness (the SMTP server, the Web Push receiver):
//! their packages come from PyPI on first use, into the target folder, so `cargo
//! test` on a fresh clone needs no set-up step.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

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

/// A helper script running beside a test: it writes what it receives as JSON
/// files, `NNNN.json` in order, into a folder of its own. Stopped (and its folder
/// removed) when dropped.
pub struct Helper {
    folder: PathBuf,
    _process: Child,
}

impl Helper {
    /// Runs `script FOLDER args…` with `packages` on its path; returns it and the
    /// first line it prints (where it listens).
    pub async fn spawn(script: &Path, packages: &str, args: &[String]) -> (Helper, String) {
        let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "{}-{}-{:08x}",
            script.file_stem().and_then(|s| s.to_str()).unwrap_or("helper"),
            std::process::id(),
            rand::random::<u32>()
        ));
        let mut process = Command::new("python3")
            .arg(script)
            .arg(&folder)
            .args(args)
            .env("PYTHONPATH", packages)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let stdout = process.stdout.take().expect("its output");
        let mut first = String::new();
        tokio::time::timeout(Duration::from_secs(20), BufReader::new(stdout).read_line(&mut first))
            .await
            .expect("the helper starts within 20 s")
            .expect("it says where it listens");
        (Helper { folder, _process: process }, first)
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.folder)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "json"));
        names.sort();
        names.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
    }

    /// Waits until `n` things came; returns them all.
    pub async fn until(&self, n: usize, what: &str) -> Vec<Value> {
        for _ in 0..500 {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{} of {n} {what} arrived", self.received().len());
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
