//! Profiles, pricing, platform options and the oracle command.

use super::{deepbat, failure, stderr, synth_trace, write};
use deepbat_core::shared_data;

fn json_of(output: &std::process::Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn close(got: &serde_json::Value, want: f64, tolerance: f64) {
    let got = got.as_f64().unwrap_or(f64::NAN);
    assert!((got - want).abs() <= tolerance, "{got} vs {want}");
}

#[test]
fn profile_show_prints_the_batch_polynomials() {
    // Inception-v4 at 2048 MB and b = 10 evaluates to 8.28 s (BATCH's published value).
    let json = json_of(&deepbat(&[
        "profile",
        "show",
        "--profile-preset",
        "inception-v4",
        "--memory",
        "2048,3008",
        "--batch",
        "10,20",
        "--json",
    ]));
    close(&json["rows"][0]["seconds"][0], 8.28, 0.005);
    close(&json["rows"][1]["seconds"][1], 11.27, 0.005);
    assert_eq!(json["profile"]["kind"], "polynomial");
    assert_eq!(json["profile"]["name"], "inception-v4");

    // The text table has a row per memory size, in milliseconds.
    let text = deepbat(&["profile", "show", "--profile-preset", "resnet-v2"]);
    assert!(text.status.success(), "{}", stderr(&text));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.lines().any(|l| l.trim_start().starts_with("1024")),
        "{stdout}"
    );
    assert!(
        !stdout.lines().any(|l| l.trim_start().starts_with("128 ")),
        "{stdout}"
    );

    // Outside the measured range: refused unless asked to extrapolate.
    let err = failure(&[
        "profile",
        "show",
        "--profile-preset",
        "inception-v4",
        "--memory",
        "128",
    ]);
    assert!(
        err.contains("128") && err.contains("--extrapolate"),
        "{err}"
    );
    let out = deepbat(&[
        "profile",
        "show",
        "--profile-preset",
        "inception-v4",
        "--memory",
        "128",
        "--extrapolate",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = failure(&["profile", "show", "--profile-preset", "bert"]);
    assert!(
        err.contains("bert") && err.contains("inception-v4"),
        "{err}"
    );
}

#[test]
fn profile_fit_recovers_parameters_and_writes_a_usable_profile() {
    let dir = tempfile::tempdir().unwrap();
    // s = 0.01 + 0.002 b + (0.03 + 0.1 b) * 1769 / min(M, 2048), exact to 1e-12.
    let mut csv = String::from("memory_mb,batch_size,seconds\n");
    for m in [512u32, 1024, 1536, 2048, 2560, 3072] {
        for b in [1u32, 2, 4, 8] {
            let g = 1769.0 / f64::from(m.min(2048));
            let s = 0.01 + 0.002 * f64::from(b) + (0.03 + 0.1 * f64::from(b)) * g;
            csv.push_str(&format!("{m},{b},{s:.12}\n"));
        }
    }
    let data = write(dir.path(), "m.csv", &csv);
    let fitted = dir.path().join("fitted.toml");
    let json = json_of(&deepbat(&[
        "profile",
        "fit",
        "--measurements",
        data.to_str().unwrap(),
        "--out",
        fitted.to_str().unwrap(),
        "--json",
    ]));
    let p = &json["profile"];
    close(&p["a0"], 0.01, 1e-6);
    close(&p["a1"], 0.002, 1e-6);
    close(&p["c0"], 0.03, 1e-6);
    close(&p["c1"], 0.1, 1e-6);
    close(&p["m_sat_mb"], 2048.0, 0.0);
    assert!(json["mape_percent"].as_f64().unwrap() < 1e-6);

    // The written TOML is a profile the other commands accept.
    let shown = json_of(&deepbat(&[
        "profile",
        "show",
        "--profile",
        fitted.to_str().unwrap(),
        "--memory",
        "1769",
        "--batch",
        "1",
        "--json",
    ]));
    close(&shown["rows"][0]["seconds"][0], 0.01 + 0.002 + 0.13, 1e-6);

    // A bad measurement names the file, line and value, and writes nothing.
    let bad = write(
        dir.path(),
        "bad.csv",
        "memory_mb,batch_size,seconds\n1024,1,0.5\n1024,2,fast\n",
    );
    let out = dir.path().join("never.toml");
    let err = failure(&[
        "profile",
        "fit",
        "--measurements",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        err.contains("bad.csv") && err.contains("line 3") && err.contains("fast"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out.exists());
}

#[test]
fn a_csv_table_profile_serves_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let table = write(
        dir.path(),
        "t.csv",
        "memory_mb,batch_size,seconds\n1024,1,0.04\n1024,4,0.1\n2048,1,0.02\n2048,4,0.05\n",
    );
    // One request at 1 s, 1536 MB, B = 4, T = 10 ms: waits 10 ms, then s(1536, 1) = 0.03.
    let trace = write(dir.path(), "gaps.txt", "1.0\n");
    let args = |memory: &'static str| {
        vec![
            "simulate".to_string(),
            "--trace".into(),
            trace.to_str().unwrap().into(),
            "--format".into(),
            "gaps".into(),
            "--memory".into(),
            memory.into(),
            "--batch".into(),
            "4".into(),
            "--timeout".into(),
            "10ms".into(),
            "--profile".into(),
            table.to_str().unwrap().into(),
            "--json".into(),
        ]
    };
    let run = |extra: &[&str], memory| {
        let mut all = args(memory);
        all.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        deepbat(&refs)
    };
    let json = json_of(&run(&[], "1536"));
    close(&json["p50"], 0.04, 1e-12);
    assert_eq!(json["profile"]["kind"], "table");
    let err = stderr(&run(&[], "4096"));
    assert!(err.contains("4096") && err.contains("1024..=2048"), "{err}");
    // Extrapolated along the line through 1024 MB (0.04 s) and 2048 MB (0.02 s): 0 at
    // 3072 MB, floored at 1 us.
    let json = json_of(&run(&["--extrapolate"], "3072"));
    close(&json["p50"], 0.01 + 1e-6, 1e-9);
}

#[test]
fn simulate_reports_custom_prices_and_platform_options() {
    let dir = tempfile::tempdir().unwrap();
    // The hand case of `simulate_json_matches_a_hand_computation`: arrivals 0.5, 0.51,
    // 0.52, 2.0; B = 2, T = 50 ms, 1769 MB; batches {0.5, 0.51} at 0.51 (s = 0.024),
    // {0.52} at 0.57 (s = 0.015), {2.0} at 2.05 (s = 0.015).
    let trace = write(dir.path(), "gaps.txt", "0.5\n0.01\n0.01\n1.48\n");
    let base = [
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
    ];
    let run = |extra: &[&str]| {
        let mut all: Vec<&str> = base.to_vec();
        all.extend_from_slice(extra);
        json_of(&deepbat(&all))
    };

    // A 10 ms overhead shifts every latency (0.034, 0.024, 0.065, 0.065) by 10 ms; custom
    // prices with 100 ms billing bill each of the three invocations 0.1 s.
    let json = run(&[
        "--invoke-overhead",
        "10ms",
        "--price-gb-s",
        "0.00001",
        "--price-request",
        "0",
        "--billing-ms",
        "100",
    ]);
    close(&json["p50"], 0.044, 1e-12);
    close(&json["p99"], 0.075, 1e-12);
    close(
        &json["cost_per_request"],
        3.0 * 0.00001 * 1769.0 / 1024.0 * 0.1 / 4.0,
        1e-18,
    );
    close(&json["pricing"]["price_gb_s"], 0.00001, 0.0);
    close(&json["pricing"]["price_request"], 0.0, 0.0);
    assert_eq!(json["pricing"]["granularity_ms"], 100);
    close(&json["platform"]["invoke_overhead_s"], 0.01, 1e-15);

    // Cold starts, init 200 ms, keep-alive 1 s: the batch at 0.51 is cold (busy to
    // 0.734); the one at 0.57 finds it busy and is cold too (busy to 0.785); at 2.05 both
    // have idled over 1 s and are gone: cold. Every latency grows by 0.2 s and every
    // invocation bills init + service.
    let json = run(&["--cold-start", "200ms", "--keep-alive", "1s"]);
    close(&json["p50"], 0.234, 1e-12);
    close(&json["p99"], 0.265, 1e-12);
    let billed = 0.224 + 0.215 + 0.215;
    let expected = (0.000_016_666_7 * 1769.0 / 1024.0 * billed + 3.0 * 2e-7) / 4.0;
    close(&json["cost_per_request"], expected, 1e-15);
    close(&json["platform"]["cold_start"]["init_s"], 0.2, 1e-15);

    // A concurrency limit of 1 never binds here: the first invocation ends at 0.534,
    // before the second batch leaves at 0.57, so the figures equal the plain run.
    let limited = run(&["--concurrency", "1"]);
    let plain = run(&[]);
    close(&limited["p99"], plain["p99"].as_f64().unwrap(), 1e-12);
    assert_eq!(limited["platform"]["concurrency"], 1);
    assert!(plain["platform"]["concurrency"].is_null());

    let err = failure(&[&base[..], &["--price-gb-s=-1"]].concat());
    assert!(err.contains("--price-gb-s") && err.contains("-1"), "{err}");
    let err = failure(&[&base[..], &["--concurrency", "0"]].concat());
    assert!(err.contains("concurrency limit 0"), "{err}");
}

#[test]
fn oracle_writes_the_best_of_every_window_and_a_frontier() {
    let dir = tempfile::tempdir().unwrap();
    let synth = synth_trace(dir.path(), "synth.txt", 5);
    let grid = write(
        dir.path(),
        "grid.toml",
        "memory_mb = [512, 1769, 3008]\nbatch_sizes = [1, 2, 4, 8]\ntimeouts_ms = [0, 5, 20]\n",
    );
    let common = [
        "oracle",
        "--trace",
        synth.to_str().unwrap(),
        "--format",
        "gaps",
        "--grid",
        grid.to_str().unwrap(),
        "--slo",
        "100ms",
    ];
    let best = dir.path().join("best.csv");
    let run = deepbat(&[&common[..], &["--out", best.to_str().unwrap()]].concat());
    assert!(run.status.success(), "{}", stderr(&run));
    let text = std::fs::read_to_string(&best).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "window,first_arrival_s,last_arrival_s,memory_mb,batch_size,timeout_s,feasible,\
         p50,p90,p95,p99,cost_per_request,mean_batch"
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert!(rows.len() > 10);
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row[0], k.to_string());
        if row[6] == "true" {
            assert!(row[9].parse::<f64>().unwrap() <= 0.1, "{row:?}");
        }
    }
    // Stdout carries the same CSV.
    let piped = deepbat(&common);
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert_eq!(String::from_utf8_lossy(&piped.stdout), text);

    // The frontier of window 3: cost rises and p95 falls strictly along it.
    let frontier = deepbat(&[&common[..], &["--frontier-window", "3"]].concat());
    assert!(frontier.status.success(), "{}", stderr(&frontier));
    let text = String::from_utf8_lossy(&frontier.stdout).into_owned();
    let points: Vec<(f64, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[3].parse().unwrap(), f[6].parse().unwrap())
        })
        .collect();
    assert!(points.len() >= 2, "{text}");
    for pair in points.windows(2) {
        assert!(pair[1].0 > pair[0].0 && pair[1].1 < pair[0].1, "{text}");
    }
    // The cheapest frontier point meeting the SLO is window 3's best.
    let cheapest_ok = points.iter().find(|p| p.1 <= 0.1).unwrap();
    let row3 = &rows[3];
    assert_eq!(cheapest_ok.0, row3[11].parse::<f64>().unwrap());

    let err = failure(&[&common[..], &["--frontier-window", "100000"]].concat());
    assert!(err.contains("100000"), "{err}");
    // With a 20 ms invoke overhead every window is searched by full simulation, every
    // latency includes the overhead, and no window gets cheaper than without it.
    let slow = deepbat(&[&common[..], &["--invoke-overhead", "20ms"]].concat());
    assert!(slow.status.success(), "{}", stderr(&slow));
    let slow_text = String::from_utf8_lossy(&slow.stdout).into_owned();
    let slow_rows: Vec<Vec<&str>> = slow_text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(slow_rows.len(), rows.len());
    for (fast, slow) in rows.iter().zip(&slow_rows) {
        assert!(slow[7].parse::<f64>().unwrap() >= 0.02, "{slow:?}");
        if slow[6] == "true" && fast[6] == "true" {
            let (a, b): (f64, f64) = (fast[11].parse().unwrap(), slow[11].parse().unwrap());
            assert!(b >= a, "{fast:?} {slow:?}");
        }
    }

    // A bad trace fails before anything is written.
    let bad = write(dir.path(), "bad.txt", "0.1\n-0.2\n");
    let never = dir.path().join("never.csv");
    let err = failure(&[
        "oracle",
        "--trace",
        bad.to_str().unwrap(),
        "--format",
        "gaps",
        "--slo",
        "100ms",
        "--out",
        never.to_str().unwrap(),
    ]);
    assert!(err.contains("bad.txt") && err.contains("line 2"), "{err}");
    assert!(!never.exists());
}

#[test]
fn the_deepspeech_table_is_read_in_place() {
    let Some(shared) = shared_data::shared_dir("the_deepspeech_table_is_read_in_place") else {
        return;
    };
    let path = shared.join("profiles/deepspeech-lambda-mbs.json");
    let path = path.to_str().unwrap();
    // Class 0 at 1024 MB, b = 1 was measured at 1117.2 ms.
    let json = json_of(&deepbat(&[
        "profile",
        "show",
        "--profile",
        path,
        "--profile-class",
        "0",
        "--memory",
        "1024",
        "--batch",
        "1",
        "--json",
    ]));
    close(&json["rows"][0]["seconds"][0], 1.1172, 1e-9);
    assert_eq!(json["profile"]["kind"], "table");
    let err = failure(&["profile", "show", "--profile", path]);
    assert!(
        err.contains("33 request-size classes") && err.contains("--profile-class"),
        "{err}"
    );
}
