//! `deepbat analytic` and the analytical replay policies, end to end.

use super::{deepbat, failure, stderr, synth_trace, write};
use std::path::{Path, PathBuf};

/// The MMPP(2) of section 2.5 of the BATCH brief as BATCH-style matrix files, and the
/// profile s_k = 0.05 + 0.02 k s as a parametric TOML.
fn brief_case(dir: &Path) -> (PathBuf, PathBuf) {
    let d0 = write(dir, "MAP1_D0", "-200.5,0.5\n2,-12\n");
    write(dir, "MAP1_D1", "200,0\n0,10\n");
    let profile = write(
        dir,
        "profile.toml",
        "kind = \"parametric\"\na0 = 0.05\na1 = 0.02\nc0 = 0.0\nc1 = 0.0\nm_sat_mb = 3538\n",
    );
    (d0, profile)
}

#[test]
fn one_configuration_reproduces_the_brief() {
    let dir = tempfile::tempdir().unwrap();
    let (d0, profile) = brief_case(dir.path());
    let out = deepbat(&[
        "analytic",
        "--map",
        d0.to_str().unwrap(),
        "--profile",
        profile.to_str().unwrap(),
        "--memory",
        "2048",
        "--batch",
        "5",
        "--timeout",
        "80ms",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let exact = &json["configuration"]["exact"];
    // Brief: p95 0.18022 s, E[n] 4.895766, cost 1.04795e-6 USD.
    let p95 = exact["p95"].as_f64().unwrap();
    assert!((p95 - 0.18022).abs() < 5e-6, "{p95}");
    let mean = exact["mean_batch"].as_f64().unwrap();
    assert!((mean - 4.895766).abs() < 5e-7, "{mean}");
    let cost = exact["cost_per_request"].as_f64().unwrap();
    assert!((cost - 1.04795e-6).abs() < 1e-11, "{cost}");
    // BATCH's heuristic opening phase (80, 5) / 85.
    let alpha = json["configuration"]["batch_approx"]["opening_phase"][0]
        .as_f64()
        .unwrap();
    assert!((alpha - 80.0 / 85.0).abs() < 1e-12);
    assert!((json["map"]["rate"].as_f64().unwrap() - 162.0).abs() < 1e-9);
}

#[test]
fn the_grid_is_solved_by_both_models() {
    let dir = tempfile::tempdir().unwrap();
    brief_case(dir.path());
    let grid = write(
        dir.path(),
        "grid.toml",
        "memory_mb = [1024, 2048]\nbatch_sizes = [1, 2, 4, 8]\ntimeouts_ms = [0, 10, 50]\n",
    );
    let folder = dir.path().to_str().unwrap();
    let out = deepbat(&[
        "analytic",
        "--map",
        folder,
        "--index",
        "1",
        "--grid",
        grid.to_str().unwrap(),
        "--slo",
        "100ms",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for method in ["exact", "batch_approx"] {
        let solved = &json["grid"][method];
        assert_eq!(solved["feasible"], true, "{method}");
        assert!(solved["latency"].as_f64().unwrap() <= 0.1, "{method}");
        assert!(solved["config"]["memory_mb"].as_u64().is_some());
    }
}

#[test]
fn a_trace_is_fitted_and_replayed_by_the_analytic_policies() {
    let dir = tempfile::tempdir().unwrap();
    let trace = synth_trace(dir.path(), "day.gz", 4);
    let trace = trace.to_str().unwrap();
    let out = deepbat(&[
        "analytic",
        "--map",
        trace,
        "--memory",
        "2048",
        "--batch",
        "4",
        "--timeout",
        "20ms",
        "--method",
        "exact",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("MAP(2) fitted to"), "{text}");

    let runs = dir.path().join("runs");
    let out = deepbat(&[
        "replay",
        "--trace",
        trace,
        "--format",
        "gaps",
        "--hours",
        "0..0",
        "--slo",
        "100ms",
        "--policies",
        "batch,batch-exact",
        "--out",
        runs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("batch-exact"), "{text}");
    // Hour 0 has no earlier hour: both policies say they fitted it on itself.
    assert_eq!(text.matches("fitted on hour 0 itself").count(), 2, "{text}");
    assert!(runs.join("windows.csv").is_file());
}

#[test]
fn bad_analytic_input_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d0 = write(dir.path(), "BAD_D0", "-10,5\n1,x\n");
    write(dir.path(), "BAD_D1", "5,0\n0,1\n");
    let text = failure(&["analytic", "--map", d0.to_str().unwrap(), "--slo", "100ms"]);
    assert!(text.contains("BAD_D0") && text.contains("line 2"), "{text}");

    let (good, _) = brief_case(dir.path());
    let good = good.to_str().unwrap();
    let text = failure(&["analytic", "--map", good, "--memory", "1024"]);
    assert!(text.contains("--batch"), "{text}");
    let text = failure(&["analytic", "--map", good]);
    assert!(text.contains("--slo"), "{text}");
    let text = failure(&[
        "analytic", "--map", good, "--slo", "100ms", "--method", "magic",
    ]);
    assert!(text.contains("magic"), "{text}");
    // A timeout no batch window can span: one line, no allocation failure.
    let text = failure(&[
        "analytic",
        "--map",
        good,
        "--memory",
        "1024",
        "--batch",
        "8",
        "--timeout",
        "1e9s",
    ]);
    assert!(text.contains("too large for the exact model"), "{text}");
    let text = failure(&["analytic", "--map", good, "--index", "1", "--slo", "1s"]);
    assert!(text.contains("not a folder"), "{text}");
    let text = failure(&[
        "analytic",
        "--map",
        dir.path().to_str().unwrap(),
        "--index",
        "9",
        "--slo",
        "1s",
    ]);
    assert!(text.contains("--index 9"), "{text}");
}

#[test]
fn replay_simulates_the_platform_options() {
    // A 400 ms invoke overhead alone breaks a 100 ms SLO in every window, whatever the
    // policy chooses: the replay must simulate it, and record it in run.json.
    let dir = tempfile::tempdir().unwrap();
    let trace = synth_trace(dir.path(), "day.gz", 6);
    let grid = write(
        dir.path(),
        "grid.toml",
        "memory_mb = [1024, 3008]\nbatch_sizes = [1, 4]\ntimeouts_ms = [0, 10]\n",
    );
    let runs = dir.path().join("runs");
    let out = deepbat(&[
        "replay",
        "--trace",
        trace.to_str().unwrap(),
        "--format",
        "gaps",
        "--hours",
        "0..0",
        "--slo",
        "100ms",
        "--grid",
        grid.to_str().unwrap(),
        "--policies",
        "oracle,batch-exact",
        "--invoke-overhead",
        "400ms",
        "--out",
        runs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let hours = std::fs::read_to_string(runs.join("hours.csv")).unwrap();
    for row in hours.lines().skip(1) {
        let vcr: f64 = row.split(',').nth(3).unwrap().parse().unwrap();
        assert_eq!(vcr, 100.0, "{row}");
    }
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs.join("run.json")).unwrap()).unwrap();
    assert_eq!(record["platform"]["invoke_overhead_s"], 0.4);
}
