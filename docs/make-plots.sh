#!/usr/bin/env bash
# Regenerates the trace figures in docs/plots/ and prints the hourly index-of-dispersion
# table that the README quotes.
#
#   docs/make-plots.sh            # the traces in ../shared/traces, the release binary
#   SHARED=/path/to/shared DEEPBAT=/path/to/deepbat docs/make-plots.sh
#
# Needs a release build (cargo build --release) and the shared trace folder beside the
# repository; nothing of the traces is copied into the repository, only the figures.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
traces=${SHARED:-$root/../shared}/traces
deepbat=${DEEPBAT:-$root/target/release/deepbat}
out=$root/docs/plots
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$out"

# One synthetic bursty day, the generator behind `deepbat demo` (seed 7, as the shipped
# model's training trace).
"$deepbat" synth --hours 24 --first-hour 0 --seed 7 --out "$scratch/synth-day.gz" >/dev/null

twitter_hours=()
for h in $(seq 0 23); do
    twitter_hours+=("$traces/twitter-may25-batch/TW_may25_$h-$((h + 1)).gz")
done

azure=(--trace "$traces/azure-functions-2019-sample500/invocations.csv"
    --format azure-minute --label "Azure Functions 2019, 500 functions summed (8 h)")
twitter=(--trace "${twitter_hours[@]}"
    --format gaps --label "Twitter 2017, BATCH paper (24 hourly files)")
# 22 days of per-second counts: the first 24 hours stand for the rest.
twitter_2021=(--trace "$traces/twitter-2021-08-persecond-infadapter/workload.txt.gz"
    --format per-second --hours 0..23 --label "Twitter 2021-08, first 24 h of 22 days")
synth=(--trace "$scratch/synth-day.gz"
    --format gaps --label "synthetic bursty day (deepbat synth, seed 7)")

"$deepbat" trace plot "${azure[@]}" --out "$out/azure-2019"
"$deepbat" trace plot "${twitter[@]}" --out "$out/twitter-2017"
"$deepbat" trace plot "${twitter_2021[@]}" --out "$out/twitter-2021"
"$deepbat" trace plot "${synth[@]}" --out "$out/synthetic-day"
"$deepbat" trace plot "${azure[@]}" "${twitter[@]}" "${twitter_2021[@]}" "${synth[@]}" \
    --title "Four traces: load and burstiness hour by hour" --out "$out/all-traces"

# The table's row for all 22 days of Twitter 2021 (its figure is not kept: too dense).
"$deepbat" trace plot --trace "$traces/twitter-2021-08-persecond-infadapter/workload.txt.gz" \
    --format per-second --label "Twitter 2021-08, all 22 days" --out "$scratch/twitter-2021-all"
