//! Reading a profile from a file; the file's extension says what it holds.
//!
//! - `.csv`: measurements `memory_mb,batch_size,seconds` (the second column may also be
//!   called `batch`), one per line, `#` comments allowed; they become a table.
//! - `.json`: either a class table, `{"service_time": {"<memory_mb>": [[ms for b = 1, 2,
//!   ...] per request-size class]}}` (the form of the MBS DeepSpeech measurements; a class
//!   must be chosen), or a profile as deepbat writes it in JSON outputs and `model.json`.
//! - anything else: a TOML profile (`kind = "parametric"`, `"polynomial"` or `"table"`).

use super::table::{Measurement, Table};
use super::{ProfileError, ProfileSpec};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// How to read a profile file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileOptions {
    /// The request-size class of a class table.
    pub class: Option<usize>,
    /// Let a measured profile answer outside its range.
    pub extrapolate: bool,
}

impl ProfileSpec {
    /// Reads and validates a profile file (see the module docs for the forms).
    ///
    /// # Errors
    /// An unreadable file, content of none of the forms, a bad value (CSV errors name the
    /// line), a class table without a class or with one it lacks, or a class for a file
    /// that has none.
    pub fn load(path: &Path, options: &ProfileOptions) -> Result<Self, ProfileError> {
        let name = path.display().to_string();
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        let (mut spec, has_classes) = match extension.as_deref() {
            Some("csv") => {
                let measurements = read_measurements(path)?;
                (
                    Self::Table(Table::from_measurements(name.clone(), &measurements)),
                    false,
                )
            }
            Some("json") => load_json(path, &name, options.class)?,
            _ => {
                let text = read(path, &name)?;
                let spec = toml::from_str(&text).map_err(|e| ProfileError::Parse {
                    path: name.clone(),
                    message: e.to_string(),
                })?;
                (spec, false)
            }
        };
        if let (Some(class), false) = (options.class, has_classes) {
            return Err(ProfileError::Shape {
                path: name,
                message: format!(
                    "request-size class {class} was asked for, but the file has no classes"
                ),
            });
        }
        if options.extrapolate {
            spec.set_extrapolate(true);
        }
        spec.validate(&name)?;
        Ok(spec)
    }
}

fn read(path: &Path, name: &str) -> Result<String, ProfileError> {
    std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
        path: name.to_string(),
        source,
    })
}

/// A JSON profile, and whether it was a class table.
fn load_json(
    path: &Path,
    name: &str,
    class: Option<usize>,
) -> Result<(ProfileSpec, bool), ProfileError> {
    let parse = |message: String| ProfileError::Parse {
        path: name.to_string(),
        message,
    };
    let text = read(path, name)?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| parse(e.to_string()))?;
    let Some(service_time) = value.get("service_time") else {
        let spec = serde_json::from_value(value).map_err(|e| parse(e.to_string()))?;
        return Ok((spec, false));
    };
    let by_memory: BTreeMap<String, Vec<Vec<f64>>> = serde_json::from_value(service_time.clone())
        .map_err(|e| {
        parse(format!(
            "service_time must map memory sizes to lists of per-class lists: {e}"
        ))
    })?;
    let classes = by_memory.values().map(Vec::len).min().unwrap_or(0);
    let Some(class) = class else {
        return Err(ProfileError::NoClass {
            path: name.to_string(),
            classes,
        });
    };
    let mut measurements = Vec::new();
    for (key, per_class) in &by_memory {
        let memory_mb: u32 = key
            .parse()
            .map_err(|_| parse(format!("memory key '{key}' is not a whole number of MB")))?;
        let Some(times) = per_class.get(class) else {
            return Err(ProfileError::Shape {
                path: name.to_string(),
                message: format!(
                    "request-size class {class} is not in the table ({} classes at {key} MB)",
                    per_class.len()
                ),
            });
        };
        for (k, ms) in times.iter().enumerate() {
            measurements.push(Measurement {
                memory_mb,
                batch_size: k as u32 + 1,
                seconds: ms / 1e3,
            });
        }
    }
    let source = format!("{name} class {class}");
    Ok((
        ProfileSpec::Table(Table::from_measurements(source, &measurements)),
        true,
    ))
}

/// Reads a CSV of measurements `memory_mb,batch_size,seconds`.
///
/// # Errors
/// A header of other columns, a value that is not a number, a memory outside
/// 128..=10240, a batch size of 0, a time that is not positive, a point measured twice, or
/// no data; each names the file, the line and the value.
pub fn read_measurements(path: &Path) -> Result<Vec<Measurement>, ProfileError> {
    let name = path.display().to_string();
    let text = read(path, &name)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let line_error = |line: u64, message: String| ProfileError::Line {
        path: name.clone(),
        line,
        message,
    };
    let headers = reader
        .headers()
        .map_err(|e| line_error(1, e.to_string()))?
        .clone();
    let names: Vec<&str> = headers.iter().collect();
    if !matches!(
        names.as_slice(),
        ["memory_mb", "batch_size" | "batch", "seconds"]
    ) {
        return Err(line_error(
            1,
            format!(
                "header '{}' should be memory_mb,batch_size,seconds",
                names.join(",")
            ),
        ));
    }

    let mut measurements = Vec::new();
    let mut seen: HashMap<(u32, u32), u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            line_error(line, e.to_string())
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let whole = |i: usize, what: &str| -> Result<u32, ProfileError> {
            let text = &record[i];
            text.parse()
                .map_err(|_| line_error(line, format!("{what} '{text}' is not a whole number")))
        };
        let memory_mb = whole(0, "memory_mb")?;
        let batch_size = whole(1, "batch size")?;
        let text = &record[2];
        let seconds: f64 = text
            .parse()
            .map_err(|_| line_error(line, format!("seconds '{text}' is not a number")))?;
        if !(128..=10240).contains(&memory_mb) {
            return Err(line_error(
                line,
                format!("memory_mb {memory_mb} is outside 128..=10240"),
            ));
        }
        if batch_size == 0 {
            return Err(line_error(
                line,
                "batch size 0: a batch holds at least one request".into(),
            ));
        }
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(line_error(
                line,
                format!("seconds {text} is not a positive number"),
            ));
        }
        if let Some(first) = seen.insert((memory_mb, batch_size), line) {
            return Err(line_error(
                line,
                format!("{memory_mb} MB, batch {batch_size} was already measured on line {first}"),
            ));
        }
        measurements.push(Measurement {
            memory_mb,
            batch_size,
            seconds,
        });
    }
    if measurements.is_empty() {
        return Err(ProfileError::Parse {
            path: name,
            message: "no measurements".into(),
        });
    }
    Ok(measurements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ServiceProfile;
    use crate::shared_data;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn csv_becomes_a_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "m.csv",
            "memory_mb,batch_size,seconds\n# warm runs\n1024,1,0.5\n1024,4,1.1\n2048,1,0.3\n2048,4,0.6\n",
        );
        let spec = ProfileSpec::load(&path, &ProfileOptions::default()).unwrap();
        // 1536 MB, b = 2: 1024 gives 0.5 + 0.6 / 3 = 0.7, 2048 gives 0.3 + 0.1 = 0.4.
        assert!((spec.service_time(1536, 2) - 0.55).abs() < 1e-12);
        assert!(spec.check_covers(&[3008], &[1]).is_err());
        let extrapolating = ProfileOptions {
            extrapolate: true,
            ..ProfileOptions::default()
        };
        let spec = ProfileSpec::load(&path, &extrapolating).unwrap();
        spec.check_covers(&[3008], &[8]).unwrap();
    }

    #[test]
    fn bad_csv_names_file_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "memory_mb,batch_size,seconds\n1024,1,0.5\n1024,2,abc\n",
                "line 3",
                "abc",
            ),
            (
                "memory_mb,batch_size,seconds\n1024,1,0.5\n64,2,0.1\n",
                "line 3",
                "64",
            ),
            (
                "memory_mb,batch_size,seconds\n1024,0,0.5\n",
                "line 2",
                "batch size 0",
            ),
            (
                "memory_mb,batch_size,seconds\n1024,1,-0.5\n",
                "line 2",
                "-0.5",
            ),
            (
                "memory_mb,batch_size,seconds\n1024,1,0.5\n1024,1,0.6\n",
                "line 3",
                "line 2",
            ),
            (
                "memory,batch,time\n1024,1,0.5\n",
                "line 1",
                "memory,batch,time",
            ),
            (
                "memory_mb,batch_size,seconds\n1024,1.5,0.5\n",
                "line 2",
                "1.5",
            ),
            ("memory_mb,batch_size,seconds\n1024,1\n", "line 2", "field"),
        ];
        for (text, line, value) in cases {
            let path = write(dir.path(), "bad.csv", text);
            let err = read_measurements(&path).unwrap_err().to_string();
            assert!(
                err.contains("bad.csv") && err.contains(line) && err.contains(value),
                "{text:?}: {err}"
            );
        }
        let path = write(dir.path(), "empty.csv", "memory_mb,batch_size,seconds\n");
        assert!(
            read_measurements(&path)
                .unwrap_err()
                .to_string()
                .contains("no measurements")
        );
    }

    #[test]
    fn json_profiles_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let spec = ProfileSpec::preset("resnet-v2").unwrap();
        let path = write(dir.path(), "p.json", &serde_json::to_string(&spec).unwrap());
        assert_eq!(
            ProfileSpec::load(&path, &ProfileOptions::default()).unwrap(),
            spec
        );
        let with_class = ProfileOptions {
            class: Some(0),
            ..ProfileOptions::default()
        };
        let err = ProfileSpec::load(&path, &with_class)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no classes"), "{err}");
    }

    #[test]
    fn the_deepspeech_table() {
        let Some(shared) = shared_data::shared_dir("the_deepspeech_table") else {
            return;
        };
        let path = shared.join("profiles/deepspeech-lambda-mbs.json");
        let err = ProfileSpec::load(&path, &ProfileOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("33 request-size classes"), "{err}");
        let class = |k| ProfileOptions {
            class: Some(k),
            extrapolate: false,
        };
        // Published points (ms): class 0 @1024 b1 1117.2, b10 5262.66, b25 12503.393.
        let zero = ProfileSpec::load(&path, &class(0)).unwrap();
        assert!((zero.service_time(1024, 1) - 1.1172).abs() < 1e-9);
        assert!((zero.service_time(1024, 10) - 5.26266).abs() < 1e-9);
        assert!((zero.service_time(1024, 25) - 12.503393).abs() < 1e-9);
        assert_eq!(
            zero.domain(),
            Some(crate::profile::Domain {
                memory_mb: (1024, 6912),
                batch_size: (1, 25)
            })
        );
        // Between measured memories the time lies between its neighbours.
        let mid = zero.service_time(1100, 5);
        let (a, b) = (zero.service_time(1024, 5), zero.service_time(1280, 5));
        assert!(mid <= a.max(b) && mid >= a.min(b));
        // The largest class is slower than the smallest (the brief: ~14.2 s vs 1.1 s).
        let last = ProfileSpec::load(&path, &class(32)).unwrap();
        assert!(last.service_time(1024, 1) > 10.0 * zero.service_time(1024, 1));
        // A model stores its profile in JSON; reading it back gives the same profile.
        for spec in [&zero, &last] {
            let back: ProfileSpec =
                serde_json::from_str(&serde_json::to_string(spec).unwrap()).unwrap();
            assert_eq!(&back, spec);
        }
        let err = ProfileSpec::load(&path, &class(33))
            .unwrap_err()
            .to_string();
        assert!(err.contains("class 33"), "{err}");
        assert!(zero.check_covers(&[128], &[1]).is_err());
    }
}
