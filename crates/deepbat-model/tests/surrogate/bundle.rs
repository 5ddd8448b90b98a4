//! Saving, loading and compatibility checks.

use crate::fixture::{recent_gaps, trained};
use deepbat_core::profile::Parametric;
use deepbat_core::{Grid, ProfileSpec};
use deepbat_model::{Bundle, FORMAT_VERSION, META_FILE, ModelError, WEIGHTS_FILE};

#[test]
fn save_and_load_give_identical_predictions() {
    let (bundle, _) = trained();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    bundle.save(&path).unwrap();
    assert!(path.join(WEIGHTS_FILE).is_file() && path.join(META_FILE).is_file());

    let loaded = Bundle::load(&path).unwrap();
    assert_eq!(loaded.meta(), bundle.meta());
    assert_eq!(loaded.num_params(), bundle.num_params());
    let gaps = recent_gaps(3);
    assert_eq!(
        loaded.predict_grid(&gaps).unwrap(),
        bundle.predict_grid(&gaps).unwrap()
    );
    let configs = [bundle.grid().config(0), bundle.grid().config(20_000)];
    assert_eq!(
        loaded.predict(&gaps, &configs).unwrap(),
        bundle.predict(&gaps, &configs).unwrap()
    );
}

#[test]
fn metadata_names_what_the_model_is_for() {
    let (bundle, _) = trained();
    let dir = tempfile::tempdir().unwrap();
    bundle.save(dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join(META_FILE)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["format_version"], FORMAT_VERSION);
    assert_eq!(json["window"], 32);
    assert_eq!(json["architecture"]["d_model"], 16);
    assert_eq!(json["profile"]["kind"], "parametric");
    assert_eq!(json["training"]["source"], "synthetic bursty test trace");
    assert_eq!(
        json["training"]["validation_mape"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(json["grid"]["memory_mb"].as_array().unwrap().len(), 21);
}

#[test]
fn loading_errors_name_the_path_or_version() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let err = Bundle::load(&missing).unwrap_err().to_string();
    assert!(
        err.contains("nowhere") && err.contains("does not exist"),
        "{err}"
    );

    let (bundle, _) = trained();
    let path = dir.path().join("model");
    bundle.save(&path).unwrap();
    let meta = path.join(META_FILE);
    let text = std::fs::read_to_string(&meta).unwrap();
    let bumped = text.replacen("\"format_version\": 1", "\"format_version\": 7", 1);
    std::fs::write(&meta, bumped).unwrap();
    let err = Bundle::load(&path).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::FormatVersion {
                found: 7,
                expected: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("model.json"), "{err}");

    std::fs::write(&meta, text).unwrap();
    std::fs::remove_file(path.join(WEIGHTS_FILE)).unwrap();
    let err = Bundle::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("model.bpk") && err.contains("missing"),
        "{err}"
    );

    std::fs::write(path.join(WEIGHTS_FILE), b"not burn weights").unwrap();
    let err = Bundle::load(&path).unwrap_err().to_string();
    assert!(err.contains("model.bpk"), "{err}");
}

#[test]
fn another_profile_or_grid_needs_force() {
    let (bundle, _) = trained();
    let grid = Grid::default();
    let profile = ProfileSpec::default();
    bundle.check_compatible(&profile, &grid, false).unwrap();

    let slower = ProfileSpec::Parametric(Parametric {
        c1: 0.02,
        ..Parametric::DEFAULT
    });
    let err = bundle
        .check_compatible(&slower, &grid, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("c1=0.0085") && err.contains("c1=0.02"),
        "{err}"
    );
    bundle.check_compatible(&slower, &grid, true).unwrap();

    let small = Grid {
        memory_mb: vec![1024, 2048],
        batch_sizes: vec![1, 8],
        timeouts: vec![0.0],
    };
    let err = bundle
        .check_compatible(&profile, &small, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("28224") && err.contains("of 4"), "{err}");
    bundle.check_compatible(&profile, &small, true).unwrap();
}

#[test]
fn a_bundle_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Bundle>();
}
