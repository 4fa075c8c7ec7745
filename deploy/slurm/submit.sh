#!/usr/bin/env bash
# Submits an Upstream run or experiment to Slurm as SHARDS array tasks and
# a merge that waits for them, then prints the two job ids (array, merge).
#
#   deploy/slurm/submit.sh SHARDS PARTS_DIR OUT_DIR [COMMAND] [arguments…]
#
# COMMAND is run (the default), sweep, sensitivity, break-even, calibrate
# or optimise. For example, the bundled comparison with 64 replicates in
# 16 shards, and a Morris screen of it in 32:
#
#   deploy/slurm/submit.sh 16 parts out -r 64
#   deploy/slurm/submit.sh 32 morris-parts morris sensitivity --morris 20
#
# Options for sbatch (a partition, an account, a time limit) go in
# SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT and the like, which
# sbatch reads itself. PARTS_DIR and OUT_DIR must be on a file system every
# node sees. Set UPSTREAM to the upstream binary if it is not on PATH.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
shards=${1:?usage: submit.sh SHARDS PARTS_DIR OUT_DIR [COMMAND] [arguments…]}
parts=${2:?usage: submit.sh SHARDS PARTS_DIR OUT_DIR [COMMAND] [arguments…]}
out=${3:?usage: submit.sh SHARDS PARTS_DIR OUT_DIR [COMMAND] [arguments…]}
shift 3
case "$shards" in '' | *[!0-9]* | 0*)
  echo "submit.sh: SHARDS must be a whole number from 1, not \"$shards\"" >&2
  exit 2
  ;;
esac
array=$(sbatch --parsable --array="1-$shards" "$here/shards.sbatch" "$parts" "$@")
array=${array%%;*}
# kill_invalid_depend, where the cluster sets it, cancels the merge if a
# shard fails; elsewhere it stays pending and `scancel` removes it.
merge=$(sbatch --parsable --dependency="afterok:$array" "$here/merge.sbatch" "$parts" "$out")
merge=${merge%%;*}
echo "$array $merge"
