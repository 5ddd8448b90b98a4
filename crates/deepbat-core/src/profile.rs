//! Service profiles: how long a batch of `b` requests takes at `M` MB of memory.
//!
//! Every profile implements [`ServiceProfile`]. The one form available today is the
//! parametric model
//!
//! # Formula
//! `s(M, b) = a0 + a1 * b + (c0 + c1 * b) * 1769 / min(M, m_sat_mb)`
//!
//! `a0` and `a1` are memory-independent overheads (I/O, serial parts), `c0` and `c1` CPU
//! work in vCPU-seconds (Lambda gives one vCPU at 1,769 MB), and `m_sat_mb` the memory past
//! which the runtime cannot use more CPU.
//!
//! The default profile is synthetic: a small model that takes 15 ms for one request at
//! 1,769 MB and 175 ms at 128 MB, so that a 100 ms SLO rules out the smallest memories
//! and limits the batch size, which is what makes the choice interesting.

use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// Lambda gives one full vCPU at this memory size.
pub const ONE_VCPU_MB: f64 = 1769.0;

/// Time in seconds to serve one batch.
pub trait ServiceProfile: Send + Sync {
    /// Seconds to serve a batch of `batch_size` requests with `memory_mb` of memory.
    fn service_time(&self, memory_mb: u32, batch_size: u32) -> f64;
}

/// The parametric profile of the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Parametric {
    /// Fixed overhead per batch, seconds.
    pub a0: f64,
    /// Memory-independent time per request, seconds.
    pub a1: f64,
    /// CPU work per batch, vCPU-seconds.
    pub c0: f64,
    /// CPU work per request, vCPU-seconds.
    pub c1: f64,
    /// Memory beyond which more memory brings no more CPU, MB.
    pub m_sat_mb: f64,
}

impl Parametric {
    /// The synthetic default: 15 ms per request at 1,769 MB, 175 ms at 128 MB, two threads.
    pub const DEFAULT: Self = Self {
        a0: 0.002,
        a1: 0.0005,
        c0: 0.004,
        c1: 0.0085,
        m_sat_mb: 3538.0,
    };
}

impl ServiceProfile for Parametric {
    fn service_time(&self, memory_mb: u32, batch_size: u32) -> f64 {
        let batch = f64::from(batch_size);
        let cpu_share = ONE_VCPU_MB / f64::from(memory_mb).min(self.m_sat_mb);
        self.a0 + self.a1 * batch + (self.c0 + self.c1 * batch) * cpu_share
    }
}

/// A profile as written in a TOML file or stored with a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProfileSpec {
    /// `kind = "parametric"` with `a0`, `a1`, `c0`, `c1` and `m_sat_mb`.
    Parametric(Parametric),
}

impl Default for ProfileSpec {
    fn default() -> Self {
        Self::Parametric(Parametric::DEFAULT)
    }
}

impl ServiceProfile for ProfileSpec {
    fn service_time(&self, memory_mb: u32, batch_size: u32) -> f64 {
        match self {
            Self::Parametric(p) => p.service_time(memory_mb, batch_size),
        }
    }
}

/// A profile file that could not be used.
#[derive(Debug, Error)]
pub enum ProfileError {
    #[error("cannot read profile {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("profile {path}: {message}")]
    Parse { path: String, message: String },
    #[error("profile {path}: {field} = {value} {reason}")]
    Invalid {
        path: String,
        field: &'static str,
        value: f64,
        reason: &'static str,
    },
}

impl ProfileSpec {
    /// Reads and validates a TOML profile.
    ///
    /// # Errors
    /// An unreadable file, TOML that does not describe a known kind, a parameter that is not
    /// finite or negative, or `m_sat_mb` below 128.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: name.clone(),
            source,
        })?;
        let spec: Self = toml::from_str(&text).map_err(|e| ProfileError::Parse {
            path: name.clone(),
            message: e.to_string(),
        })?;
        spec.validate(&name)?;
        Ok(spec)
    }

    /// Checks the parameters; `origin` names the source in errors.
    ///
    /// # Errors
    /// See [`ProfileSpec::load`].
    pub fn validate(&self, origin: &str) -> Result<(), ProfileError> {
        let Self::Parametric(p) = self;
        let invalid = |field, value, reason| ProfileError::Invalid {
            path: origin.to_string(),
            field,
            value,
            reason,
        };
        for (field, value) in [("a0", p.a0), ("a1", p.a1), ("c0", p.c0), ("c1", p.c1)] {
            if !value.is_finite() {
                return Err(invalid(field, value, "is not a finite number"));
            }
            if value < 0.0 {
                return Err(invalid(field, value, "is negative"));
            }
        }
        if !p.m_sat_mb.is_finite() || p.m_sat_mb < 128.0 {
            return Err(invalid(
                "m_sat_mb",
                p.m_sat_mb,
                "must be a number of at least 128",
            ));
        }
        if p.service_time(10240, 1) <= 0.0 {
            return Err(invalid("a0", p.a0, "gives a zero service time"));
        }
        Ok(())
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        let Self::Parametric(p) = self;
        format!(
            "parametric a0={} a1={} c0={} c1={} m_sat_mb={}",
            p.a0, p.a1, p.c0, p.c1, p.m_sat_mb
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profile_matches_its_description() {
        let p = Parametric::DEFAULT;
        // 0.002 + 0.0005 + (0.004 + 0.0085) * 1 = 0.015
        assert!((p.service_time(1769, 1) - 0.015).abs() < 1e-12);
        // 0.0025 + 0.0125 * 1769 / 128 = 0.17525...
        assert!((p.service_time(128, 1) - (0.0025 + 0.0125 * 1769.0 / 128.0)).abs() < 1e-12);
        assert!(p.service_time(128, 1) > 0.1);
        // Saturation: 3538 MB and 10240 MB give the same time.
        assert_eq!(p.service_time(3538, 8), p.service_time(10240, 8));
    }

    #[test]
    fn reads_toml_and_rejects_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "kind = \"parametric\"\na0 = 0.01\na1 = 0.001\nc0 = 0.02\nc1 = 0.03\nm_sat_mb = 3008\n",
        )
        .unwrap();
        let spec = ProfileSpec::load(&good).unwrap();
        assert!((spec.service_time(1769, 2) - (0.01 + 0.002 + 0.08)).abs() < 1e-12);

        let bad = dir.path().join("bad.toml");
        std::fs::write(
            &bad,
            "kind = \"parametric\"\na0 = -1\na1 = 0\nc0 = 0\nc1 = 0\nm_sat_mb = 3008\n",
        )
        .unwrap();
        let err = ProfileSpec::load(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.toml") && err.contains("a0 = -1"), "{err}");

        let unknown = dir.path().join("unknown.toml");
        std::fs::write(&unknown, "kind = \"magic\"\n").unwrap();
        assert!(
            ProfileSpec::load(&unknown)
                .unwrap_err()
                .to_string()
                .contains("unknown.toml")
        );
    }
}
