#!/usr/bin/env bash
# A probabilistic run of a 312,785-resident place (Doncaster from the
# bundled table) and £2m a year of early help over ten years, with the place
# simulated at 1/K of its size (`--scale K`): wall time, peak memory, and
# the figures a board reads, to set beside the run of every resident on the
# same draws.
#
#   benches/scaled.sh                  # 100 draws at K = 1, 2, 4 and 8 (about 10 minutes on 2 cores)
#   benches/scaled.sh 1000 8           # 1,000 draws at K = 8
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=$PWD/target/release/upstream
here=$PWD
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
draws=${1:-100}
shift || true
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(1 2 4 8)
cd "$out"
"$bin" new-place --place Doncaster -o doncaster.toml > /dev/null
cp "$here/benches/experiments/early_help_doncaster.toml" early_help.toml
for k in "${scales[@]}"; do
  echo "== $draws draws, --scale $k"
  /usr/bin/time -f "wall %e s, peak memory %M kB" \
    "$bin" run doncaster.toml early_help.toml --uncertainty -r "$draws" --scale "$k" \
      --no-report -o "k$k" 2>&1 \
    | grep -E "^(Early help  |Early help:|Value of information|Simulated|wall)" | cut -c1-400
done
