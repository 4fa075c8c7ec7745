#!/usr/bin/env bash
# Upstream's speed beside an earlier commit of itself, built from source, in
# one sitting: resident-months a second (burn-in included, as each binary
# prints at the end of a run) on each commit's own bundled baseline, 8
# replicates, on 1 thread and on 2, the two binaries taking turns so both
# meet the same machine. Then the reduced model (benches/reduced.toml)
# beside the speed-of-light probe, if its folder is given.
#
#   benches/compare.sh [COMMIT] [ROUNDS] [SOL_DIR]
#
# COMMIT defaults to 6e7c352 (main on 2026-12-01), ROUNDS to 3 (the median
# is reported), SOL_DIR to ../shared/tools/sol when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."

old=${1:-6e7c352}
rounds=${2:-3}
sol=${3:-../shared/tools/sol}
work=target/compare
mkdir -p "$work"

# The earlier commit, from this repository's history, built in its own
# folder with its own lock file.
old_bin="$work/upstream-$old"
if [ ! -x "$old_bin" ]; then
  rm -rf "$work/src-$old"
  mkdir -p "$work/src-$old"
  git archive "$old" | tar -x -C "$work/src-$old"
  (cd "$work/src-$old" && CARGO_TARGET_DIR=../target-old cargo build --release --bin upstream -q)
  cp "$work/target-old/release/upstream" "$old_bin"
fi
cargo build --release --bin upstream -q
new_bin=target/release/upstream

# Millions of resident-months a second, from the line every run prints.
rate() {
  local bin=$1 scenario=$2 threads=$3 replicates=$4
  "$bin" run "$scenario" -r "$replicates" -j "$threads" -o "$work/out" --no-report 2>&1 >/dev/null |
    sed -n 's/.*: \([0-9.]*\) million resident-months a second.*/\1/p'
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "bundled baseline, 8 replicates: million resident-months a second (median of $rounds)"
printf '%-8s %12s %12s %8s\n' threads "$old" "$(git rev-parse --short HEAD)" ratio
for threads in 1 2; do
  : > "$work/old.txt"
  : > "$work/new.txt"
  for _ in $(seq "$rounds"); do
    rate "$old_bin" "$work/src-$old/scenarios/baseline.toml" "$threads" 8 >> "$work/old.txt"
    rate "$new_bin" scenarios/baseline.toml "$threads" 8 >> "$work/new.txt"
  done
  o=$(median < "$work/old.txt")
  n=$(median < "$work/new.txt")
  printf '%-8s %12s %12s %8s\n' "$threads" "$o" "$n" "$(awk -v a="$n" -v b="$o" 'BEGIN {printf "%.2f", a / b}')"
done

echo
echo "one replicate of the bundled baseline: million resident-months a second (median of $rounds)"
for threads in 1 2; do
  : > "$work/one.txt"
  for _ in $(seq "$rounds"); do
    rate "$new_bin" scenarios/baseline.toml "$threads" 1 >> "$work/one.txt"
  done
  printf '%-8s %12s\n' "$threads" "$(median < "$work/one.txt")"
done

if [ -d "$sol" ]; then
  echo
  echo "reduced model (benches/reduced.toml, 8 replicates, 2 threads) beside the speed-of-light probe"
  rm -rf "$work/sol"
  cp -r "$sol" "$work/sol"
  chmod -R u+w "$work/sol"
  (cd "$work/sol" && cargo build --release -q)
  : > "$work/red.txt"
  : > "$work/sol.txt"
  for _ in $(seq "$rounds"); do
    rate "$new_bin" benches/reduced.toml 2 8 >> "$work/red.txt"
    "$work/sol/target/release/sol" 200000 120 |
      sed -n 's/^rayon.*, \([0-9.]*\) M agent-steps.*/\1/p' >> "$work/sol.txt"
  done
  r=$(median < "$work/red.txt")
  s=$(median < "$work/sol.txt")
  echo "reduced model: $r million resident-months a second"
  echo "probe:         $s million agent-steps a second"
  awk -v a="$s" -v b="$r" 'BEGIN {printf "the probe is %.1f times faster\n", a / b}'
fi
