//! End-to-end checks of the `deepbat` command as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "cli/analytic.rs"]
mod analytic;
#[path = "cli/serverless_model.rs"]
mod serverless_model;

fn deepbat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deepbat"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the deepbat binary runs")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// One hour of seeded synthetic traffic written by `deepbat synth` into `dir/name`.
fn synth_trace(dir: &Path, name: &str, seed: u64) -> PathBuf {
    let path = dir.join(name);
    let seed = seed.to_string();
    let made = deepbat(&[
        "synth",
        "--hours",
        "1",
        "--seed",
        &seed,
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    path
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a command that must fail and returns its stderr.
fn failure(args: &[&str]) -> String {
    let output = deepbat(args);
    assert!(!output.status.success(), "expected failure of {args:?}");
    let text = stderr(&output);
    assert!(!text.contains("panicked"), "{text}");
    text
}

#[test]
fn simulate_json_matches_a_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    // Arrivals at 0.5, 0.51, 0.52 and 2.0 s; B = 2, T = 50 ms, 1769 MB, default profile.
    // Batches: {0.5, 0.51} full at 0.51; {0.52} times out at 0.57; {2.0} times out at 2.05.
    // s(1769, 1) = 0.015, s(1769, 2) = 0.002 + 0.001 + 0.004 + 0.017 = 0.024.
    // Latencies: 0.034, 0.024, 0.065, 0.065 -> p50 (rank 2) 0.034, p90/p95/p99 0.065.
    let trace = write(dir.path(), "gaps.txt", "0.5\n0.01\n0.01\n1.48\n");
    let out = deepbat(&[
        "simulate",
        "--trace",
        trace.to_str().unwrap(),
        "--format",
        "gaps",
        "--memory",
        "1769",
        "--batch",
        "2",
        "--timeout",
        "50ms",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let close = |key: &str, want: f64| {
        let got = json[key].as_f64().unwrap();
        assert!((got - want).abs() < 1e-9, "{key}: {got} vs {want}");
    };
    assert_eq!(json["requests"], 4);
    close("p50", 0.034);
    close("p90", 0.065);
    close("p95", 0.065);
    close("p99", 0.065);
    close("mean_batch", 4.0 / 3.0);
    // Cost: GB-s price * 1769/1024 * (0.024 + 0.015 + 0.015) + 3 * 2e-7, over 4 requests.
    let expected = (0.000_016_666_7 * 1769.0 / 1024.0 * 0.054 + 3.0 * 2e-7) / 4.0;
    let got = json["cost_per_request"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-15, "{got} vs {expected}");
}

#[test]
fn bad_traces_name_file_line_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("empty.txt", "", "gaps", vec!["empty.txt"]),
        (
            "negative.txt",
            "0.1\n0.2\n-0.3\n",
            "gaps",
            vec!["negative.txt", "line 3", "-0.3"],
        ),
        (
            "text.txt",
            "0.1\nabc\n",
            "gaps",
            vec!["text.txt", "line 2", "abc"],
        ),
        (
            "unsorted.txt",
            "1.0\n3.0\n2.5\n",
            "timestamps",
            vec!["unsorted.txt", "line 3", "2.5"],
        ),
    ];
    for (name, text, format, needles) in cases {
        let path = write(dir.path(), name, text);
        let err = failure(&[
            "simulate",
            "--trace",
            path.to_str().unwrap(),
            "--format",
            format,
            "--memory",
            "1024",
            "--batch",
            "4",
            "--timeout",
            "10ms",
        ]);
        for needle in needles {
            assert!(
                err.contains(needle),
                "{name}: '{needle}' missing from: {err}"
            );
        }
    }
}

#[test]
fn bad_arguments_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write(dir.path(), "gaps.txt", "0.1\n0.1\n");
    // (format, memory, timeout, what the error must quote)
    let cases = [
        ("gaps", "64", "1ms", "64 MB"),
        ("gaps", "1024", "soon", "soon"),
        ("bogus", "1024", "1ms", "bogus"),
    ];
    for (format, memory, timeout, needle) in cases {
        let err = failure(&[
            "simulate",
            "--trace",
            trace.to_str().unwrap(),
            "--format",
            format,
            "--memory",
            memory,
            "--batch",
            "4",
            "--timeout",
            timeout,
        ]);
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn a_failed_replay_leaves_no_output_behind() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write(dir.path(), "gaps.txt", &"0.01\n".repeat(2000));
    let out = dir.path().join("out");
    let err = failure(&[
        "replay",
        "--trace",
        trace.to_str().unwrap(),
        "--format",
        "gaps",
        "--hours",
        "0..0",
        "--slo",
        "100ms",
        "--policies",
        "oracle,nonsense",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(err.contains("nonsense"), "{err}");
    assert!(!out.exists());
}

#[test]
fn replay_writes_both_tables() {
    let dir = tempfile::tempdir().unwrap();
    let synth = synth_trace(dir.path(), "synth.txt", 3);
    let grid = write(
        dir.path(),
        "grid.toml",
        "memory_mb = [512, 1769, 3008]\nbatch_sizes = [1, 2, 4, 8]\ntimeouts_ms = [0, 5, 20]\n",
    );
    let out = dir.path().join("out");
    let run = deepbat(&[
        "replay",
        "--trace",
        synth.to_str().unwrap(),
        "--format",
        "gaps",
        "--hours",
        "0..0",
        "--slo",
        "100ms",
        "--policies",
        "oracle,sim-last,static",
        "--static-config",
        "3008,1,0ms",
        "--grid",
        grid.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let windows = std::fs::read_to_string(out.join("windows.csv")).unwrap();
    let header = windows.lines().next().unwrap();
    assert_eq!(
        header,
        "policy,hour,window,memory_mb,batch_size,timeout_s,p95,cost_per_request,oracle_cost_per_request,violated"
    );
    let hours = std::fs::read_to_string(out.join("hours.csv")).unwrap();
    assert_eq!(
        hours.lines().next().unwrap(),
        "policy,hour,windows,vcr_percent,cost_per_request,oracle_cost_per_request,mean_decision_ms"
    );
    // run.json records what the replay ran with.
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        record["policies"],
        serde_json::json!(["oracle", "sim-last", "static"])
    );
    assert_eq!(
        record["grid"]["memory_mb"],
        serde_json::json!([512, 1769, 3008])
    );
    assert_eq!(record["objective"]["slo"], 0.1);
    assert_eq!(record["input"]["command"], "replay");
    // Three policies over the same windows; the oracle never costs more than sim-last on a
    // window where sim-last met the SLO.
    let rows: Vec<Vec<String>> = windows
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let per_policy = |name: &str| rows.iter().filter(|r| r[0] == name).count();
    assert!(per_policy("oracle") > 10);
    assert_eq!(per_policy("oracle"), per_policy("sim-last"));
    assert_eq!(per_policy("oracle"), per_policy("static"));
    for row in rows.iter().filter(|r| r[9] == "false") {
        let cost: f64 = row[7].parse().unwrap();
        let oracle: f64 = row[8].parse().unwrap();
        assert!(cost >= oracle * (1.0 - 1e-12), "{row:?}");
    }
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("oracle") && stdout.contains("VCR"),
        "{stdout}"
    );
}

/// The model shipped in the repository for the demo.
fn shipped_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default")
}

#[test]
fn optimize_scores_the_whole_grid_with_the_shipped_model() {
    let dir = tempfile::tempdir().unwrap();
    let synth = synth_trace(dir.path(), "synth.txt.gz", 9);
    let model = shipped_model();
    let out = deepbat(&[
        "optimize",
        "--model",
        model.to_str().unwrap(),
        "--trace",
        synth.to_str().unwrap(),
        "--format",
        "gaps",
        "--slo",
        "100ms",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "memory_mb",
        "batch_size",
        "timeout_s",
        "predicted_p95",
        "predicted_cost",
        "feasible",
        "decision_ms",
    ] {
        assert!(!json[key].is_null(), "{key} missing in {json}");
    }
    assert_eq!(json["configurations"], 28_224);
    // The setting the model was trained for is part of the answer.
    assert_eq!(json["profile"]["kind"], "parametric");
    assert_eq!(json["pricing"]["granularity_ms"], 1);
    // A feasible choice is predicted to meet the SLO.
    if json["feasible"].as_bool().unwrap() {
        assert!(json["predicted_p95"].as_f64().unwrap() <= 0.1);
    }

    // Too short a trace for one window is refused with the numbers that explain why.
    let short = write(dir.path(), "short.txt", &"0.01\n".repeat(100));
    let err = failure(&[
        "optimize",
        "--model",
        model.to_str().unwrap(),
        "--trace",
        short.to_str().unwrap(),
        "--format",
        "gaps",
        "--slo",
        "100ms",
    ]);
    assert!(err.contains("100 arrivals") && err.contains("257"), "{err}");
}

#[test]
fn demo_runs_with_no_input() {
    let out = deepbat(&["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for policy in ["oracle", "sim-last", "deepbat"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(policy)),
            "{policy} missing: {stdout}"
        );
    }
}

#[test]
fn a_tampered_model_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    for file in ["model.json", "model.bpk"] {
        std::fs::copy(shipped_model().join(file), model.join(file)).unwrap();
    }
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model.json")).unwrap()).unwrap();
    let trace = write(dir.path(), "gaps.txt", &"0.01\n".repeat(400));
    let tamper = |edit: &dyn Fn(&mut serde_json::Value), needle: &str| {
        let mut changed = meta.clone();
        edit(&mut changed);
        std::fs::write(model.join("model.json"), changed.to_string()).unwrap();
        let err = failure(&[
            "optimize",
            "--model",
            model.to_str().unwrap(),
            "--trace",
            trace.to_str().unwrap(),
            "--format",
            "gaps",
            "--slo",
            "100ms",
        ]);
        assert!(err.contains("model.json") && err.contains(needle), "{err}");
    };
    tamper(
        &|m| m["training"]["validation_mape"][3] = serde_json::json!(-50.0),
        "-50",
    );
    tamper(
        &|m| m["grid"]["timeouts"] = serde_json::json!([]),
        "non-empty",
    );
    tamper(
        &|m| m["grid"]["memory_mb"] = serde_json::json!([64]),
        "64 MB",
    );
    tamper(
        &|m| m["pricing"]["granularity_ms"] = serde_json::json!(0),
        "granularity",
    );
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    // Many hours, so the stats table is longer than a pipe's buffer.
    let trace = write(dir.path(), "gaps.txt", &"600\n".repeat(20_000));
    let mut child = Command::new(env!("CARGO_BIN_EXE_deepbat"))
        .args([
            "trace",
            "stats",
            "--trace",
            trace.to_str().unwrap(),
            "--format",
            "gaps",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("scope"), "{first}");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

#[test]
fn map_fit_writes_files_that_load_back() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("onoff.txt");
    let trace_arg = trace.to_str().unwrap();
    let made = deepbat(&[
        "synth",
        "--mode",
        "on-off",
        "--hours",
        "1",
        "--first-hour",
        "3",
        "--out",
        trace_arg,
    ]);
    assert!(made.status.success(), "{}", stderr(&made));

    let fits = dir.path().join("fits");
    let out = deepbat(&[
        "map",
        "fit",
        "--trace",
        trace_arg,
        "--format",
        "gaps",
        "--json",
        "--out",
        fits.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &reports[0];
    let measured = report["measured"]["rate_per_s"].as_f64().unwrap();
    let fitted = report["fitted"]["rate_per_s"].as_f64().unwrap();
    // The fit keeps the mean gap exactly.
    assert!(
        (measured - fitted).abs() < 1e-9 * measured,
        "{measured} vs {fitted}"
    );

    let d0 = fits.join("MAP1_D0");
    let shown = deepbat(&["map", "show", d0.to_str().unwrap(), "--json"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let reloaded = shown[0]["rate_per_s"].as_f64().unwrap();
    assert!(
        (reloaded - fitted).abs() < 1e-12 * fitted,
        "{reloaded} vs {fitted}"
    );

    // A second fit into the same folder would mix two series: refused, files untouched.
    let before = std::fs::read(&d0).unwrap();
    let again = failure(&[
        "map",
        "fit",
        "--trace",
        trace_arg,
        "--format",
        "gaps",
        "--out",
        fits.to_str().unwrap(),
    ]);
    assert!(again.contains("already holds"), "{again}");
    assert_eq!(std::fs::read(&d0).unwrap(), before);
}

#[test]
fn synth_from_maps_samples_each_hour_from_its_map() {
    let dir = tempfile::tempdir().unwrap();
    let maps = dir.path().join("maps");
    std::fs::create_dir(&maps).unwrap();
    write(&maps, "MAP1_D0", "-5\n");
    write(&maps, "MAP1_D1", "5\n");
    write(&maps, "MAP2_D0", "-200.5,0.5\n2,-12\n");
    write(&maps, "MAP2_D1", "200,0\n0,10\n");
    let trace = dir.path().join("day.txt");
    let made = deepbat(&[
        "synth",
        "--from-maps",
        maps.to_str().unwrap(),
        "--hours",
        "2",
        "--seed",
        "4",
        "--out",
        trace.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    let stats = deepbat(&[
        "trace",
        "stats",
        "--trace",
        trace.to_str().unwrap(),
        "--format",
        "gaps",
        "--json",
    ]);
    assert!(stats.status.success(), "{}", stderr(&stats));
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    // Hour 0 is Poisson at 5/s, hour 1 the MMPP at 162/s with IDC(∞) 29.5.
    let rate = |h: usize| stats["hours"][h][1]["mean_rate"].as_f64().unwrap();
    assert!((rate(0) - 5.0).abs() < 0.3, "{}", rate(0));
    assert!((rate(1) - 162.0).abs() < 15.0, "{}", rate(1));
    let idc = |h: usize| {
        stats["dispersion"][h + 1]["idc_intervals"]
            .as_f64()
            .unwrap()
    };
    assert!(idc(0) < 1.5 && idc(1) > 10.0, "{} {}", idc(0), idc(1));
}

#[test]
fn bad_map_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d0 = write(dir.path(), "X_D0", "-1,1\n1,oops\n");
    write(dir.path(), "X_D1", "0,0\n0,0\n");
    let message = failure(&["map", "show", d0.to_str().unwrap()]);
    assert!(
        message.contains("X_D0 line 2") && message.contains("'oops'"),
        "{message}"
    );

    let d0 = write(dir.path(), "Y_D0", "-3,1\n1,-3\n");
    write(dir.path(), "Y_D1", "1,0\n0,2\n");
    let message = failure(&["map", "show", d0.to_str().unwrap()]);
    assert!(
        message.contains("Y_D0") && message.contains("row 0"),
        "{message}"
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let message = failure(&[
        "synth",
        "--from-maps",
        empty.to_str().unwrap(),
        "--out",
        "x.txt",
    ]);
    assert!(message.contains("no MAP<k>_D0"), "{message}");
}

#[test]
fn a_failed_map_fit_writes_no_files() {
    let dir = tempfile::tempdir().unwrap();
    // Hour 0 has plenty of gaps; hour 1 has two arrivals, too few to fit.
    let mut text = "0.01\n".repeat(50);
    text.push_str("0.02\n0.03\n0.05\n");
    text.push_str("3600\n0.5\n");
    let trace = write(dir.path(), "gaps.txt", &text);
    let fits = dir.path().join("fits");
    let message = failure(&[
        "map",
        "fit",
        "--trace",
        trace.to_str().unwrap(),
        "--format",
        "gaps",
        "--hourly",
        "--out",
        fits.to_str().unwrap(),
    ]);
    assert!(message.contains("hour 1"), "{message}");
    assert!(!fits.join("MAP1_D0").exists());
}

#[test]
fn trace_plot_writes_svg_and_png_for_several_series() {
    let dir = tempfile::tempdir().unwrap();
    let synth = synth_trace(dir.path(), "synth.txt.gz", 5);
    // One arrival a second at 1, 2, ..., 7199 s: hours 0 and 1, no randomness at all.
    let steady = write(dir.path(), "steady.txt", &"1\n".repeat(7199));
    let prefix = dir.path().join("plots/traces");
    let run = deepbat(&[
        "trace",
        "plot",
        "--format",
        "gaps",
        "--trace",
        synth.to_str().unwrap(),
        "--label",
        "bursty synth",
        "--trace",
        steady.to_str().unwrap(),
        "--label",
        "steady",
        "--out",
        prefix.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));

    let svg = std::fs::read_to_string(dir.path().join("plots/traces.svg")).unwrap();
    assert!(svg.contains("<svg"), "{svg:.300}");
    assert!(svg.contains("bursty synth") && svg.contains("steady"));
    let png = std::fs::read(dir.path().join("plots/traces.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");

    // The table: one row per series. The steady trace has one arrival in every 1 s window
    // (variance 0) and constant gaps (SCV 0) in both of its hours.
    let stdout = String::from_utf8_lossy(&run.stdout);
    let row = |label: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no row for {label}: {stdout}"))
            .to_string()
    };
    assert!(row("bursty synth").contains(" 1 "), "{stdout}");
    let steady_row = row("steady");
    assert!(
        steady_row.contains(" 7199 ") && steady_row.contains(" 2 "),
        "{stdout}"
    );
    assert_eq!(
        steady_row.matches("0.00 / 0.00 / 0.00").count(),
        2,
        "{stdout}"
    );
}

#[test]
fn a_bad_series_leaves_no_plot_behind() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.txt", &"0.5\n".repeat(100));
    let bad = write(dir.path(), "bad.txt", "0.1\n0.2\nNaN\n");
    let prefix = dir.path().join("out");
    let err = failure(&[
        "trace",
        "plot",
        "--format",
        "gaps",
        "--trace",
        good.to_str().unwrap(),
        "--trace",
        bad.to_str().unwrap(),
        "--out",
        prefix.to_str().unwrap(),
    ]);
    assert!(
        err.contains("bad.txt") && err.contains("line 3") && err.contains("NaN"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // Two labels for one series are refused before anything is read.
    let err = failure(&[
        "trace",
        "plot",
        "--trace",
        good.to_str().unwrap(),
        "--format",
        "gaps",
        "--label",
        "a",
        "--label",
        "b",
        "--out",
        prefix.to_str().unwrap(),
    ]);
    assert!(err.contains("--label is given twice"), "{err}");

    // A directory where the PNG should go is found before the SVG is written.
    std::fs::create_dir(dir.path().join("blocked.png")).unwrap();
    let blocked = dir.path().join("blocked");
    let err = failure(&[
        "trace",
        "plot",
        "--trace",
        good.to_str().unwrap(),
        "--format",
        "gaps",
        "--out",
        blocked.to_str().unwrap(),
    ]);
    assert!(err.contains("blocked.png"), "{err}");
    std::fs::remove_dir(dir.path().join("blocked.png")).unwrap();

    // Nothing was written, not even a temporary file.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["bad.txt", "good.txt"]);
}
