#!/usr/bin/env bash
# Wall time and throughput of Upstream's experiments on the bundled baseline
# and hubs, at 20,000 residents (benches/experiments/) and at the bundled
# 200,000: a Morris screen of 20 parameters × 10 trajectories (2 replicates
# a point, after its one-way runs of the same 20), and a 1,000-draw
# probabilistic run (`run --uncertainty -r 1000`, which also re-runs every
# replicate with the parameters at their values).
#
#   benches/experiments.sh            # both sizes (about an hour on 2 cores)
#   benches/experiments.sh 20000      # one size
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=target/release/upstream
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# 20 of the comparison's uncertain parameters: need (4), events (10),
# temporary accommodation (4), household stress (1) and handoffs (1).
only=(--only need. --only events. --only episodes.temporary_accommodation
      --only household. --only handoff.)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(20000 200000)
for size in "${sizes[@]}"; do
  if [ "$size" = 20000 ]; then
    pair=(benches/experiments/baseline_20k.toml benches/experiments/hubs_20k.toml)
  else
    pair=(scenarios/baseline.toml scenarios/hubs.toml)
  fi
  echo "== $size residents: Morris screen, 20 parameters × 10 trajectories"
  /usr/bin/time -f "wall %e s, peak memory %M kB" \
    "$bin" sensitivity "${pair[@]}" "${only[@]}" --morris 10 -r 2 -o "$out/morris_$size" --top 3 2>&1 \
    | grep -E "^(One-way|Morris screen:|wall)"
  echo "== $size residents: 1,000-draw probabilistic run"
  /usr/bin/time -f "wall %e s, peak memory %M kB" \
    "$bin" run "${pair[@]}" --uncertainty -r 1000 --no-report -o "$out/psa_$size" 2>&1 \
    | grep -E "^(Simulated|Scenarios that|wall)"
done
