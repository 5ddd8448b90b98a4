//! Service profiles: how long a batch of `b` requests takes at `M` MB of memory.
//!
//! Every profile implements [`ServiceProfile`]; [`ProfileSpec`] is the one serialisable
//! form that files, commands and saved models use. Three kinds exist:
//!
//! - `parametric`, valid at every memory and batch size:
//!
//!   # Formula
//!   `s(M, b) = a0 + a1 * b + (c0 + c1 * b) * 1769 / min(M, m_sat_mb)`
//!
//!   `a0` and `a1` are memory-independent overheads (I/O, serial parts), `c0` and `c1` CPU
//!   work in vCPU-seconds (Lambda gives one vCPU at 1,769 MB), and `m_sat_mb` the memory
//!   past which the runtime cannot use more CPU. [`fit`] estimates it from measurements.
//! - `polynomial`, the cubic fits of the BATCH paper ([`polynomial`]), valid only over the
//!   memory and batch range they were measured on.
//! - `table`, measured points ([`table`]), interpolated linearly.
//!
//! The two measured kinds refuse a memory or batch size outside their range
//! ([`ProfileSpec::check_covers`]) unless their `extrapolate` flag is set.
//!
//! The default profile is synthetic: a small model that takes 15 ms for one request at
//! 1,769 MB and 175 ms at 128 MB, so that a 100 ms SLO rules out the smallest memories
//! and limits the batch size, which is what makes the choice interesting.

pub mod fit;
mod load;
pub mod polynomial;
pub mod table;

pub use load::{ProfileOptions, read_measurements};
pub use polynomial::Polynomial;
pub use table::{Measurement, Table, TableRow};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Lambda gives one full vCPU at this memory size.
pub const ONE_VCPU_MB: f64 = 1769.0;

/// No profile returns less than this many seconds, however far it extrapolates.
pub const MIN_SERVICE_S: f64 = 1e-6;

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

/// The memory and batch sizes a measured profile is valid for, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Domain {
    pub memory_mb: (u32, u32),
    pub batch_size: (u32, u32),
}

/// A profile as written in a file or stored with a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProfileSpec {
    /// `kind = "parametric"` with `a0`, `a1`, `c0`, `c1` and `m_sat_mb`.
    Parametric(Parametric),
    /// `kind = "polynomial"`: a cubic in (b, M) with its valid range.
    Polynomial(Polynomial),
    /// `kind = "table"`: measured points per memory size.
    Table(Table),
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
            Self::Polynomial(p) => p.service_time(memory_mb, batch_size),
            Self::Table(t) => t.service_time(memory_mb, batch_size),
        }
    }
}

/// Names [`ProfileSpec::preset`] accepts.
pub const PRESETS: [&str; 3] = ["default", "inception-v4", "resnet-v2"];

/// A profile that could not be used.
#[derive(Debug, Error)]
pub enum ProfileError {
    #[error("cannot read profile {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("profile {path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path} line {line}: {message}")]
    Line {
        path: String,
        line: u64,
        message: String,
    },
    #[error("profile {path}: {field} = {value} {reason}")]
    Invalid {
        path: String,
        field: &'static str,
        value: f64,
        reason: &'static str,
    },
    #[error("profile {path}: {message}")]
    Shape { path: String, message: String },
    #[error(
        "profile {path}: the table has {classes} request-size classes (0..={last}); choose one",
        last = classes.saturating_sub(1)
    )]
    NoClass { path: String, classes: usize },
    #[error(
        "profile [{profile}]: {what} {value} is outside the measured {low}..={high} \
         and extrapolation is off"
    )]
    OutOfRange {
        profile: String,
        what: &'static str,
        value: u32,
        low: u32,
        high: u32,
    },
}

impl ProfileSpec {
    /// A built-in profile by name (see [`PRESETS`]).
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "default" => Some(Self::default()),
            "inception-v4" => Some(Self::Polynomial(Polynomial::inception_v4())),
            "resnet-v2" => Some(Self::Polynomial(Polynomial::resnet_v2())),
            _ => None,
        }
    }

    /// The range a measured profile is valid for; `None` for a parametric one (valid
    /// everywhere).
    pub fn domain(&self) -> Option<Domain> {
        match self {
            Self::Parametric(_) => None,
            Self::Polynomial(p) => Some(p.domain()),
            Self::Table(t) => Some(t.domain()),
        }
    }

    /// Whether the profile extrapolates outside its domain.
    pub fn extrapolates(&self) -> bool {
        match self {
            Self::Parametric(_) => true,
            Self::Polynomial(p) => p.extrapolate,
            Self::Table(t) => t.extrapolate,
        }
    }

    /// Lets a measured profile answer outside its range (linear continuation for tables,
    /// the polynomial itself for polynomials; never below [`MIN_SERVICE_S`]).
    pub fn set_extrapolate(&mut self, on: bool) {
        match self {
            Self::Parametric(_) => {}
            Self::Polynomial(p) => p.extrapolate = on,
            Self::Table(t) => t.extrapolate = on,
        }
    }

    /// Checks that every memory and batch size asked for lies in the profile's range.
    ///
    /// # Errors
    /// [`ProfileError::OutOfRange`] for the first value outside it, unless the profile
    /// extrapolates.
    pub fn check_covers(&self, memory_mb: &[u32], batch_sizes: &[u32]) -> Result<(), ProfileError> {
        let Some(domain) = self.domain() else {
            return Ok(());
        };
        if self.extrapolates() {
            return Ok(());
        }
        let outside = |what, values: &[u32], (low, high): (u32, u32)| {
            values
                .iter()
                .find(|v| !(low..=high).contains(*v))
                .map(|&value| ProfileError::OutOfRange {
                    profile: self.describe(),
                    what,
                    value,
                    low,
                    high,
                })
        };
        if let Some(e) = outside("memory (MB)", memory_mb, domain.memory_mb) {
            return Err(e);
        }
        if let Some(e) = outside("batch size", batch_sizes, domain.batch_size) {
            return Err(e);
        }
        Ok(())
    }

    /// Checks the parameters; `origin` names the source in errors.
    ///
    /// A parametric profile may have negative parameters (fits of real measurements
    /// sometimes do) as long as every service time is positive. The form is linear in `b`
    /// and in `g = 1769 / min(M, m_sat_mb)`, so it is enough to check the four corners
    /// `b` in {1, 4096} x `M` in {128, 10240}.
    ///
    /// # Errors
    /// A parameter that is not finite, `m_sat_mb` below 128, a non-positive service time,
    /// or a malformed polynomial or table.
    pub fn validate(&self, origin: &str) -> Result<(), ProfileError> {
        match self {
            Self::Parametric(p) => validate_parametric(p, origin),
            Self::Polynomial(p) => p.validate(origin),
            Self::Table(t) => t.validate(origin),
        }
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        let extrapolating = if self.domain().is_some() && self.extrapolates() {
            ", extrapolating"
        } else {
            ""
        };
        match self {
            Self::Parametric(p) => format!(
                "parametric a0={} a1={} c0={} c1={} m_sat_mb={}",
                p.a0, p.a1, p.c0, p.c1, p.m_sat_mb
            ),
            Self::Polynomial(p) => format!("polynomial {}{extrapolating}", p.name),
            Self::Table(t) => format!(
                "table {} ({} memory sizes, {} points){extrapolating}",
                t.source,
                t.rows.len(),
                t.rows.iter().map(|r| r.seconds.len()).sum::<usize>()
            ),
        }
    }
}

fn validate_parametric(p: &Parametric, origin: &str) -> Result<(), ProfileError> {
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
    }
    if !p.m_sat_mb.is_finite() || p.m_sat_mb < 128.0 {
        return Err(invalid(
            "m_sat_mb",
            p.m_sat_mb,
            "must be a number of at least 128",
        ));
    }
    for memory in [128, 10240] {
        for batch in [1, crate::grid::MAX_BATCH_SIZE] {
            let s = p.service_time(memory, batch);
            if s.is_nan() || s <= 0.0 {
                let reason = if p.a0 < 0.0 {
                    "is negative and gives a service time of zero or less"
                } else {
                    "gives a service time of zero or less"
                };
                let (field, value) = if p.a0 < 0.0 || (p.a1 >= 0.0 && p.c0 >= 0.0) {
                    ("a0", p.a0)
                } else if p.a1 < 0.0 {
                    ("a1", p.a1)
                } else {
                    ("c0", p.c0)
                };
                return Err(invalid(field, value, reason));
            }
        }
    }
    Ok(())
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
        let options = ProfileOptions::default();
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "kind = \"parametric\"\na0 = 0.01\na1 = 0.001\nc0 = 0.02\nc1 = 0.03\nm_sat_mb = 3008\n",
        )
        .unwrap();
        let spec = ProfileSpec::load(&good, &options).unwrap();
        assert!((spec.service_time(1769, 2) - (0.01 + 0.002 + 0.08)).abs() < 1e-12);

        let bad = dir.path().join("bad.toml");
        std::fs::write(
            &bad,
            "kind = \"parametric\"\na0 = -1\na1 = 0\nc0 = 0\nc1 = 0\nm_sat_mb = 3008\n",
        )
        .unwrap();
        let err = ProfileSpec::load(&bad, &options).unwrap_err().to_string();
        assert!(err.contains("bad.toml") && err.contains("a0 = -1"), "{err}");

        let unknown = dir.path().join("unknown.toml");
        std::fs::write(&unknown, "kind = \"magic\"\n").unwrap();
        assert!(
            ProfileSpec::load(&unknown, &options)
                .unwrap_err()
                .to_string()
                .contains("unknown.toml")
        );
    }

    #[test]
    fn negative_fitted_parameters_are_fine_while_times_stay_positive() {
        // The DeepSpeech class-16 fit of the reference brief: a0 and a1 are negative, yet
        // s(10240, 4096) = -0.128 - 0.068 * 4096 + (2.194 + 2.163 * 4096) * 1769 / 1920 > 0.
        let fitted = ProfileSpec::Parametric(Parametric {
            a0: -0.128,
            a1: -0.068,
            c0: 2.194,
            c1: 2.163,
            m_sat_mb: 1920.0,
        });
        fitted.validate("fit").unwrap();
        let broken = ProfileSpec::Parametric(Parametric {
            a1: -2.0,
            ..Parametric::DEFAULT
        });
        let err = broken.validate("x.toml").unwrap_err().to_string();
        assert!(err.contains("a1 = -2"), "{err}");
    }

    #[test]
    fn parametric_metadata_of_earlier_versions_still_reads() {
        // The form `models/default/model.json` stores.
        let json = r#"{"kind":"parametric","a0":0.002,"a1":0.0005,"c0":0.004,
                       "c1":0.0085,"m_sat_mb":3538.0}"#;
        let spec: ProfileSpec = serde_json::from_str(json).unwrap();
        assert_eq!(spec, ProfileSpec::default());
    }

    #[test]
    fn presets_and_range_checks() {
        for name in PRESETS {
            ProfileSpec::preset(name).unwrap().validate(name).unwrap();
        }
        assert!(ProfileSpec::preset("bert").is_none());
        let mut inception = ProfileSpec::preset("inception-v4").unwrap();
        inception.check_covers(&[1024, 3008], &[1, 20]).unwrap();
        let err = inception
            .check_covers(&[128], &[1])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("memory (MB) 128") && err.contains("1024..=3008"),
            "{err}"
        );
        let err = inception
            .check_covers(&[2048], &[32])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("batch size 32") && err.contains("1..=20"),
            "{err}"
        );
        inception.set_extrapolate(true);
        inception.check_covers(&[128], &[32]).unwrap();
        assert!(inception.service_time(128, 32) >= MIN_SERVICE_S);
        ProfileSpec::default()
            .check_covers(&[128, 10240], &[4096])
            .unwrap();
    }
}
