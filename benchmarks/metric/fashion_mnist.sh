#!/usr/bin/env bash
# Metric learning on Fashion-MNIST (Debian's dataset-fashion-mnist). Trains one embedding head per loss
# with `mlnet-retrieval train-metric --fashion-mnist` on the 60000 training images (pixels scaled to
# [0, 1]), all with the same MLP 784 -> 512 -> 128, then runs the benchmark project's
# --metric-learning mode: leave-one-out retrieval on the 10000 test images for raw pixels, PCA to 128
# and every head, exact squared Euclidean search over full rankings, scored by the project's
# evaluator (Recall@1, Recall@10, mAP, MAP@R). It prints the markdown table and the training times.
#
# Usage, from any folder:
#   benchmarks/metric/fashion_mnist.sh [--epochs N] [--threads N] [--losses "arcface cosface ..."] [--out DIR]
# Defaults: 15 epochs, 2 threads, all seven losses, out /tmp/metric-bench.
#
# Shared settings: SGD with momentum 0.9, peak learning rate 0.05 with cosine decay, weight decay
# 5e-4 on the weight matrices, batch 256, seed 1, no validation split (every training image is
# trained on). Pair and triplet losses draw P x K batches with K = 25, so each batch contains all 10
# classes. Each loss keeps its own default hyper-parameters (see the loss classes), except those set
# in loss_options below.
set -euo pipefail

epochs=15
threads=2
losses="contrastive triplet center sphereface cosface arcface softmax"
out_dir=/tmp/metric-bench
while [[ $# -gt 0 ]]; do
    case "$1" in
        --epochs) epochs="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --losses) losses="$2"; shift 2 ;;
        --out) out_dir="$2"; shift 2 ;;
        *) echo "error: unknown option '$1'; valid: --epochs, --threads, --losses, --out" >&2; exit 2 ;;
    esac
done

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$script_dir/../.." && pwd)"
heads_dir="$out_dir/heads"
mkdir -p "$heads_dir"

# Build into folders of this run, so a rebuild of the repository during the run cannot swap the binaries.
dotnet build "$repo_dir/src/MLNetRetrieval.Cli" -c Release -v quiet -nologo -o "$out_dir/cli" >/dev/null
dotnet build "$repo_dir/benchmarks/MLNetRetrieval.Benchmarks" -c Release -v quiet -nologo -o "$out_dir/bench" >/dev/null
cli=("dotnet" "$out_dir/cli/mlnet-retrieval.dll")
bench=("dotnet" "$out_dir/bench/MLNetRetrieval.Benchmarks.dll")

loss_options() {
    case "$1" in
        contrastive) echo "--per-class 25" ;;
        # Batch-hard mining collapses the embeddings at these settings (MAP@R 0.29, below raw pixels), batch-all does not.
        # With --batch-norm batch-hard trains, but reaches only MAP@R 0.40 to 0.47 (BENCHMARKS.md, "Metric learning").
        triplet) echo "--mining batch-all --per-class 25" ;;
        *) echo "" ;;
    esac
}

for loss in $losses; do
    echo "== train-metric --loss $loss ($(date -u +%H:%M:%S), load average $(cut -d' ' -f1 /proc/loadavg))" >&2
    # shellcheck disable=SC2046
    "${cli[@]}" train-metric --fashion-mnist --loss "$loss" $(loss_options "$loss") \
        --hidden 512 --dim 128 --epochs "$epochs" --batch 256 --optimizer sgd --lr 0.05 --seed 1 \
        --threads "$threads" --validation 0 --json --out "$heads_dir/$loss.zip" > "$out_dir/$loss.json"
done

echo "== evaluation ($(date -u +%H:%M:%S), load average $(cut -d' ' -f1 /proc/loadavg))" >&2
"${bench[@]}" --metric-learning "$heads_dir" --threads "$threads" | tee "$out_dir/table.md"

echo
echo "| loss | training time (s) | s per epoch | final training loss |"
echo "|---|---:|---:|---:|"
for loss in $losses; do
    /usr/bin/python3 - "$out_dir/$loss.json" "$loss" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
epochs = run["epochs"]
train = sum(e["seconds"] for e in epochs)
print(f"| {sys.argv[2]} | {train:.0f} | {train / len(epochs):.1f} | {epochs[-1]['loss']:.4f} |")
PY
done
