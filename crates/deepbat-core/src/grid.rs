//! The search space: memory sizes, batch sizes and timeouts, and one point of it.
//!
//! The default grid has 21 memory sizes, batch sizes 1..=32 and 42 timeouts (0 ms, 1 ms and
//! 5..=200 ms in 5 ms steps): 28,224 configurations. Configurations are numbered
//! memory-major, then batch size, then timeout, so that all memories of one (B, T) pair can
//! share one simulated batch structure.

use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// Memory sizes of the default grid, MB.
pub const DEFAULT_MEMORY_MB: [u32; 21] = [
    128, 256, 384, 512, 640, 768, 1024, 1280, 1536, 1769, 2048, 2560, 3008, 3538, 4096, 5307, 6144,
    7076, 8192, 8845, 10240,
];

/// Largest batch size a grid may hold. Lambda's 6 MB synchronous payload limit keeps real
/// batches far below it; the limit keeps a mistyped grid from exhausting memory.
pub const MAX_BATCH_SIZE: u32 = 4096;

/// One serverless configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Function memory, MB.
    pub memory_mb: u32,
    /// Largest batch the buffer sends in one invocation.
    pub batch_size: u32,
    /// How long the buffer may hold the first request of a batch, seconds.
    pub timeout: f64,
}

impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "M={} MB, B={}, T={}",
            self.memory_mb,
            self.batch_size,
            crate::units::format_ms(self.timeout)
        )
    }
}

/// The configurations a decision chooses from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Memory sizes, MB, each in 128..=10240.
    pub memory_mb: Vec<u32>,
    /// Batch sizes, each at least 1.
    pub batch_sizes: Vec<u32>,
    /// Timeouts in seconds, none negative.
    pub timeouts: Vec<f64>,
}

/// A grid file that could not be used.
#[derive(Debug, Error)]
pub enum GridError {
    #[error("cannot read grid {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("grid {path}: {message}")]
    Parse { path: String, message: String },
    #[error("grid {path}: {message}")]
    Invalid { path: String, message: String },
}

/// The grid file form: timeouts are written in milliseconds (`timeouts_ms`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GridFile {
    memory_mb: Vec<u32>,
    batch_sizes: Vec<u32>,
    timeouts_ms: Vec<f64>,
}

impl Default for Grid {
    fn default() -> Self {
        let mut timeouts = vec![0.0, 0.001];
        timeouts.extend((1..=40).map(|k| f64::from(k) * 0.005));
        Self {
            memory_mb: DEFAULT_MEMORY_MB.to_vec(),
            batch_sizes: (1..=32).collect(),
            timeouts,
        }
    }
}

impl Grid {
    /// Reads a TOML grid with keys `memory_mb`, `batch_sizes` and `timeouts_ms`.
    ///
    /// # Errors
    /// An unreadable file, TOML of another shape, or values that [`Grid::validate`] rejects.
    pub fn load(path: &Path) -> Result<Self, GridError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| GridError::Io {
            path: name.clone(),
            source,
        })?;
        let file: GridFile = toml::from_str(&text).map_err(|e| GridError::Parse {
            path: name.clone(),
            message: e.to_string(),
        })?;
        let grid = Self {
            memory_mb: file.memory_mb,
            batch_sizes: file.batch_sizes,
            timeouts: file.timeouts_ms.iter().map(|ms| ms / 1e3).collect(),
        };
        grid.validate(&name)?;
        Ok(grid)
    }

    /// Checks ranges, emptiness and duplicates; `origin` names the source in errors.
    ///
    /// # Errors
    /// An empty list, memory outside 128..=10240, a zero batch size, a negative or
    /// non-finite timeout, or a value listed twice.
    pub fn validate(&self, origin: &str) -> Result<(), GridError> {
        let invalid = |message: String| GridError::Invalid {
            path: origin.to_string(),
            message,
        };
        if self.memory_mb.is_empty() || self.batch_sizes.is_empty() || self.timeouts.is_empty() {
            return Err(invalid(
                "memory_mb, batch_sizes and timeouts must all be non-empty".into(),
            ));
        }
        if let Some(m) = self.memory_mb.iter().find(|m| !(128..=10240).contains(*m)) {
            return Err(invalid(format!("memory {m} MB is outside 128..=10240")));
        }
        if self.batch_sizes.contains(&0) {
            return Err(invalid(
                "batch size 0: every batch size must be at least 1".into(),
            ));
        }
        if let Some(b) = self.batch_sizes.iter().find(|b| **b > MAX_BATCH_SIZE) {
            return Err(invalid(format!(
                "batch size {b} is above the limit of {MAX_BATCH_SIZE}"
            )));
        }
        if let Some(t) = self.timeouts.iter().find(|t| !t.is_finite() || **t < 0.0) {
            return Err(invalid(format!(
                "timeout {} ms is negative or not a number",
                t * 1e3
            )));
        }
        if let Some(m) = first_duplicate(&self.memory_mb) {
            return Err(invalid(format!("memory {m} MB is listed twice")));
        }
        if let Some(b) = first_duplicate(&self.batch_sizes) {
            return Err(invalid(format!("batch size {b} is listed twice")));
        }
        let mut timeouts = self.timeouts.clone();
        timeouts.sort_by(f64::total_cmp);
        if let Some(pair) = timeouts.windows(2).find(|w| w[0] == w[1]) {
            return Err(invalid(format!(
                "timeout {} ms is listed twice",
                pair[0] * 1e3
            )));
        }
        Ok(())
    }

    /// Number of configurations.
    pub fn len(&self) -> usize {
        self.memory_mb.len() * self.batch_sizes.len() * self.timeouts.len()
    }

    /// Whether the grid has no configuration (never true for a validated grid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Index of the configuration with the given per-axis indices.
    pub fn index(&self, memory: usize, batch: usize, timeout: usize) -> usize {
        (memory * self.batch_sizes.len() + batch) * self.timeouts.len() + timeout
    }

    /// The configuration at `index` (see the module docs for the order).
    pub fn config(&self, index: usize) -> Config {
        let timeout = index % self.timeouts.len();
        let rest = index / self.timeouts.len();
        let batch = rest % self.batch_sizes.len();
        let memory = rest / self.batch_sizes.len();
        Config {
            memory_mb: self.memory_mb[memory],
            batch_size: self.batch_sizes[batch],
            timeout: self.timeouts[timeout],
        }
    }

    /// Every configuration, in index order.
    pub fn configs(&self) -> impl Iterator<Item = Config> + '_ {
        (0..self.len()).map(|i| self.config(i))
    }
}

fn first_duplicate(values: &[u32]) -> Option<u32> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_grid_has_the_documented_size() {
        let grid = Grid::default();
        assert_eq!(grid.timeouts.len(), 42);
        assert_eq!(grid.len(), 28_224);
        assert!((grid.timeouts[41] - 0.2).abs() < 1e-12);
        grid.validate("default").unwrap();
    }

    #[test]
    fn index_and_config_agree() {
        let grid = Grid::default();
        let i = grid.index(3, 7, 11);
        let c = grid.config(i);
        assert_eq!((c.memory_mb, c.batch_size), (512, 8));
        assert!((c.timeout - 0.05).abs() < 1e-12);
        assert_eq!(grid.configs().count(), grid.len());
    }

    #[test]
    fn rejects_bad_grids() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "memory_mb = [64]\nbatch_sizes = [1]\ntimeouts_ms = [0]\n",
                "64 MB",
            ),
            (
                "memory_mb = [128]\nbatch_sizes = [0]\ntimeouts_ms = [0]\n",
                "batch size 0",
            ),
            (
                "memory_mb = [128]\nbatch_sizes = [4000000000]\ntimeouts_ms = [0]\n",
                "limit",
            ),
            (
                "memory_mb = [128]\nbatch_sizes = [1]\ntimeouts_ms = [-5]\n",
                "-5 ms",
            ),
            (
                "memory_mb = [128, 128]\nbatch_sizes = [1]\ntimeouts_ms = [0]\n",
                "twice",
            ),
            (
                "memory_mb = []\nbatch_sizes = [1]\ntimeouts_ms = [0]\n",
                "non-empty",
            ),
        ];
        for (text, needle) in cases {
            let path = dir.path().join("grid.toml");
            std::fs::write(&path, text).unwrap();
            let err = Grid::load(&path).unwrap_err().to_string();
            assert!(err.contains(needle) && err.contains("grid.toml"), "{err}");
        }
        let path = dir.path().join("ok.toml");
        std::fs::write(
            &path,
            "memory_mb = [1024, 2048]\nbatch_sizes = [1, 4]\ntimeouts_ms = [0, 10]\n",
        )
        .unwrap();
        let grid = Grid::load(&path).unwrap();
        assert_eq!(grid.len(), 8);
        assert_eq!(grid.timeouts, vec![0.0, 0.01]);
    }
}
