#!/usr/bin/env bash
# Runs the baseline and every counterfactual overlay of scenarios/counterfactuals/ with the same seed
# and runs, compares each with the baseline run by run, and regenerates the tables of
# docs/counterfactuals.md (analysis/counterfactual_report.py). From the repository root:
#
#   analysis/run_counterfactuals.sh [--check] [ALIGNSIM] [RUNS] [SEED] [FOLDER]
#     (defaults: build/sim/app/alignsim 10000 1947 results/runs/counterfactuals, a folder not tracked)
#
# The ensembles, comparisons and their text go to FOLDER, which belongs to this script (it is emptied
# of .h5, .csv and .txt files first). With --check the tables of docs/counterfactuals.md are compared
# with what the runs give instead of rewritten (exit 1 if they differ); CTest runs it so.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=()
if [ "${1:-}" = "--check" ]; then MODE=(--check); shift; fi
A=${1:-build/sim/app/alignsim}
RUNS=${2:-10000}
SEED=${3:-1947}
D=${4:-results/runs/counterfactuals}
BASE=scenarios/baseline/calibrated.toml   # the base every overlay extends
mkdir -p "$D"
rm -f "$D"/*.h5 "$D"/*.csv "$D"/*.txt     # this folder is this script's own output
for f in scenarios/counterfactuals/*.toml; do
  "$A" validate "$f" > /dev/null
done
"$A" ensemble "$BASE" --runs "$RUNS" --seed "$SEED" --store-runs 1000 --out "$D/baseline.h5" -q
for f in scenarios/counterfactuals/*.toml; do
  n=$(basename "$f" .toml)
  "$A" ensemble "$f" --runs "$RUNS" --seed "$SEED" --store-runs 1000 --out "$D/$n.h5" -q
  "$A" compare "$D/baseline.h5" "$D/$n.h5" --csv "$D/$n.csv" > "$D/$n.txt"
done
"$A" compare "$D/soviet_neutral_1971.h5" "$D/soviet_neutral_1971_no_treaty.h5" \
  --csv "$D/treaty_effect_1971.csv" > "$D/treaty_effect_1971.txt"
/usr/bin/python3 analysis/counterfactual_report.py --results "$D" "${MODE[@]}"
