//! Where tests and benchmarks find the project's shared reference data.
//!
//! The real traces and profiles live in a `shared` folder beside the repository and are read
//! in place, never copied in. A user's fresh clone has no such folder: tests that need it
//! then say that they skipped and why. CI always has it and sets `DEEPBAT_REQUIRE_SHARED`,
//! which turns the absence into a failure, so that no real-data check can pass by skipping.

use std::path::{Path, PathBuf};

/// The variable that makes missing shared data an error.
pub const REQUIRE_VARIABLE: &str = "DEEPBAT_REQUIRE_SHARED";

/// The shared folder, or `None` (after printing why `user` skips) when it is absent.
///
/// # Panics
/// When the folder is absent and `DEEPBAT_REQUIRE_SHARED` is set.
pub fn shared_dir(user: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.join("traces").is_dir() {
        return Some(dir.canonicalize().unwrap_or(dir));
    }
    let looked_at = dir.join("traces");
    if std::env::var_os(REQUIRE_VARIABLE).is_some() {
        panic!(
            "{REQUIRE_VARIABLE} is set but {} was not found",
            looked_at.display()
        );
    }
    println!(
        "skipped {user}: {} not found (a fresh clone has no shared data)",
        looked_at.display()
    );
    None
}
