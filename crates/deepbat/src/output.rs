//! Writing results so that a failure never leaves a partial file behind.
//!
//! Every file is written to a hidden temporary name in its final directory and renamed into
//! place only when complete; a model directory is built beside its final place and renamed.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::fs;
use std::path::{Path, PathBuf};

/// Files to write together: either all of them appear, or none.
#[derive(Default)]
pub struct Outputs {
    staged: Vec<(PathBuf, PathBuf)>,
}

impl Outputs {
    /// Writes `bytes` to a temporary file beside `path`.
    pub fn stage(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let name = path
            .file_name()
            .context("output path has no file name")?
            .to_string_lossy();
        let temporary = dir.join(format!(".{name}.partial-{}", std::process::id()));
        if let Err(e) = fs::write(&temporary, bytes) {
            let _ = fs::remove_file(&temporary);
            self.abandon();
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
        self.staged.push((temporary, path.to_path_buf()));
        Ok(())
    }

    /// Renames every staged file into place.
    pub fn commit(mut self) -> Result<()> {
        for (temporary, path) in std::mem::take(&mut self.staged) {
            fs::rename(&temporary, &path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }

    fn abandon(&mut self) {
        for (temporary, _) in self.staged.drain(..) {
            let _ = fs::remove_file(temporary);
        }
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// Writes a model directory with `save`, then moves it to `dir`, replacing an earlier model.
pub fn write_model_dir(dir: &Path, save: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if dir.exists() {
        let foreign = fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .filter_map(|e| e.ok())
            .any(|e| !matches!(e.file_name().to_str(), Some("model.json" | "model.bpk")));
        if foreign {
            bail!(
                "{} exists and holds files other than a model; choose another --out",
                dir.display()
            );
        }
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let name = dir
        .file_name()
        .context("--out has no directory name")?
        .to_string_lossy();
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging)?;
    if let Err(e) = save(&staging) {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    fs::rename(&staging, dir).with_context(|| format!("cannot write {}", dir.display()))
}

/// A progress bar on stderr with the given length and message.
pub fn progress(len: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar
}

/// CSV text of serialisable rows.
pub fn csv_bytes<T: serde::Serialize>(rows: &[T]) -> Result<Vec<u8>> {
    let mut writer = csv_writer();
    for row in rows {
        writer.serialize(row)?;
    }
    Ok(writer.into_inner()?)
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::new())
}
