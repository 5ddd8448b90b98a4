//! MAPs on disk, in the text format of the BATCH fits.
//!
//! Each matrix is its own file: one row per line, entries separated by commas
//! (`-55.650135,0.000000`). A folder of fits names them `MAP<k>_D0` / `MAP<k>_D1` (one per
//! hour, `k` = hour + 1) or `W<k>_D0` / `W<k>_D1` (hand-picked workloads); a series is read
//! in increasing `k`. Numbers are written back with Rust's shortest exact form, so a MAP
//! written and read again is bit-identical.

use std::fs;
use std::path::{Path, PathBuf};

use nalgebra::DMatrix;

use super::{Map, MapError};

/// The MAPs of one folder, ordered by their index `k`.
#[derive(Debug, Clone)]
pub struct MapSeries {
    /// `(k, path prefix, MAP)`: `k` from the file name and the prefix without `_D0`.
    pub maps: Vec<(u32, PathBuf, Map)>,
}

/// Reads a matrix file.
pub(crate) fn read_matrix(path: &Path) -> Result<DMatrix<f64>, MapError> {
    let text = fs::read_to_string(path).map_err(|source| MapError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let parse_error = |line: usize, why: String| MapError::Parse {
        path: path.to_path_buf(),
        line,
        why,
    };

    let mut entries = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut width = 0;
        for field in line.split(',') {
            let field = field.trim();
            let value: f64 = field
                .parse()
                .map_err(|_| parse_error(index + 1, format!("'{field}' is not a number")))?;
            if !value.is_finite() {
                return Err(parse_error(index + 1, format!("{field} is not finite")));
            }
            entries.push(value);
            width += 1;
        }
        match cols {
            None => cols = Some(width),
            Some(expected) if expected != width => {
                return Err(parse_error(
                    index + 1,
                    format!("{width} entries, but the first row has {expected}"),
                ));
            }
            Some(_) => {}
        }
        rows += 1;
    }
    let cols = cols.ok_or_else(|| parse_error(1, "no matrix rows".to_string()))?;
    Ok(DMatrix::from_row_slice(rows, cols, &entries))
}

/// Writes `map` as `<prefix>_D0` and `<prefix>_D1`.
///
/// # Errors
/// When a file cannot be written.
pub fn write_pair(map: &Map, prefix: &Path) -> Result<(), MapError> {
    for (suffix, matrix) in [("_D0", map.d0()), ("_D1", map.d1())] {
        let path = with_suffix(prefix, suffix);
        fs::write(&path, matrix_text(matrix)).map_err(|source| MapError::Io { path, source })?;
    }
    Ok(())
}

/// A matrix in the file format: rows on lines, entries joined by commas, shortest exact
/// decimal form.
pub fn matrix_text(matrix: &DMatrix<f64>) -> String {
    let mut text = String::new();
    for row in matrix.row_iter() {
        let fields: Vec<String> = row.iter().map(|x| format!("{x}")).collect();
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    text
}

/// Reads every `MAP<k>` (or `W<k>`) pair of a folder, in increasing `k`.
///
/// # Errors
/// When the folder cannot be listed, holds no pair, a `_D0` file has no `_D1`, or a pair
/// fails [`Map::load_pair`].
pub fn load_series(dir: &Path) -> Result<MapSeries, MapError> {
    let listing = fs::read_dir(dir).map_err(|source| MapError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut found = Vec::new();
    for entry in listing {
        let entry = entry.map_err(|source| MapError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(k) = index_of(&name) {
            let stem = name.trim_end_matches("_D0");
            found.push((k, dir.join(stem)));
        }
    }
    if found.is_empty() {
        return Err(MapError::NoMaps {
            dir: dir.to_path_buf(),
        });
    }
    found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));

    let mut maps = Vec::with_capacity(found.len());
    for (k, prefix) in found {
        let d0 = with_suffix(&prefix, "_D0");
        let d1 = with_suffix(&prefix, "_D1");
        maps.push((k, prefix, Map::load_pair(&d0, &d1)?));
    }
    Ok(MapSeries { maps })
}

/// `k` of a file named `MAP<k>_D0` or `W<k>_D0`.
fn index_of(name: &str) -> Option<u32> {
    let stem = name.strip_suffix("_D0")?;
    let digits = stem
        .strip_prefix("MAP")
        .or_else(|| stem.strip_prefix('W'))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_the_index() {
        assert_eq!(index_of("MAP7_D0"), Some(7));
        assert_eq!(index_of("W14_D0"), Some(14));
        assert_eq!(index_of("MAP7_D1"), None);
        assert_eq!(index_of("MAP_D0"), None);
        assert_eq!(index_of("MAPx_D0"), None);
    }

    #[test]
    fn written_maps_read_back_bit_identical() {
        let dir = tempfile::tempdir().unwrap();
        let map = Map::mmpp2(200.0, 10.0, 0.5, 2.0).unwrap();
        write_pair(&map, &dir.path().join("MAP3")).unwrap();
        let series = load_series(dir.path()).unwrap();
        assert_eq!(series.maps.len(), 1);
        assert_eq!(series.maps[0].0, 3);
        assert_eq!(series.maps[0].2, map);
    }

    #[test]
    fn bad_fields_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("D0");
        fs::write(&path, "-1,1\n1,nope\n").unwrap();
        let message = read_matrix(&path).unwrap_err().to_string();
        assert!(
            message.contains("line 2") && message.contains("'nope'"),
            "{message}"
        );
        fs::write(&path, "-1,1\n1\n").unwrap();
        let message = read_matrix(&path).unwrap_err().to_string();
        assert!(message.contains("line 2: 1 entries"), "{message}");
        fs::write(&path, "-1,1\nNaN,1\n").unwrap();
        assert!(read_matrix(&path).is_err());
    }
}
