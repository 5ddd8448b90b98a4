//! The one error type of the crate.
//!
//! Every variant carries the values a user needs to act on it: the path of a model file that
//! could not be read, the two lengths that do not match, the profile a model was trained for.
//! Errors raised inside burn (which reports them as strings or its own types) are wrapped
//! with the file or step they happened in.

use std::path::PathBuf;
use thiserror::Error;

/// What went wrong while building samples, training, saving, loading or scoring.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The model directory does not exist or is not a directory.
    #[error("model directory {} does not exist or is not a directory", .path.display())]
    NoDirectory { path: PathBuf },

    /// A file the model directory must hold is missing.
    #[error("model file {} is missing", .path.display())]
    MissingFile { path: PathBuf },

    /// A file could not be read or written.
    #[error("cannot access {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// `model.json` is not valid JSON of the expected shape.
    #[error("model metadata {}: {message}", .path.display())]
    InvalidMetadata { path: PathBuf, message: String },
    #[error("model metadata {} is malformed: {source}", .path.display())]
    Metadata {
        path: PathBuf,
        source: serde_json::Error,
    },

    /// `model.json` was written by another, incompatible, version of deepbat.
    #[error(
        "model metadata {} has format version {found}; this build reads version {expected}",
        .path.display()
    )]
    FormatVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },

    /// burn could not read or write the weights.
    #[error("model weights {}: {message}", .path.display())]
    Weights { path: PathBuf, message: String },

    /// Fewer inter-arrival times than the model's window.
    #[error("the model reads {window} inter-arrival times but only {got} were given")]
    GapsTooShort { got: usize, window: usize },

    /// An inter-arrival time that is negative or not a number.
    #[error("inter-arrival time {value} at position {index} is negative or not finite")]
    BadGap { index: usize, value: f64 },

    /// The arrival range cannot hold one window (and, for next-window labels, its successor).
    #[error(
        "arrivals {start}..{end} hold {available} usable arrivals; {needed} are needed \
         (window {window}, {label} labels)"
    )]
    RangeTooShort {
        start: usize,
        end: usize,
        available: usize,
        needed: usize,
        window: usize,
        label: &'static str,
    },

    /// A label that cannot be log-scaled.
    #[error("sample {sample}: target {name} = {value} is not a positive finite number")]
    BadTarget {
        sample: usize,
        name: &'static str,
        value: f64,
    },

    /// A sample whose window length differs from the others.
    #[error("sample {sample} has {got} inter-arrival times; the model window is {window}")]
    SampleWindow {
        sample: usize,
        got: usize,
        window: usize,
    },

    /// Too few samples to split into training and validation.
    #[error("{got} samples given; training needs at least {needed}")]
    TooFewSamples { got: usize, needed: usize },

    /// A training option out of range.
    #[error("training option {name} = {value} {reason}")]
    BadOption {
        name: &'static str,
        value: String,
        reason: &'static str,
    },

    /// The model was trained for another service profile.
    #[error(
        "the model was trained for profile [{model}] but [{requested}] was requested \
         (force to use it anyway)"
    )]
    ProfileMismatch { model: String, requested: String },

    /// The model was trained for another configuration grid.
    #[error(
        "the model was trained for a grid of {model_len} configurations ({model}) but a grid \
         of {requested_len} ({requested}) was requested (force to use it anyway)"
    )]
    GridMismatch {
        model_len: usize,
        model: String,
        requested_len: usize,
        requested: String,
    },

    /// A tensor could not be read back from burn.
    #[error("reading tensor {what}: {message}")]
    Tensor { what: &'static str, message: String },
}

/// Shorthand for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
