#!/usr/bin/env bash
# Compressed-search comparison with FAISS 1.7.3 (AVX2) in one run on one machine: for each family,
# run the FAISS peer, then `mlnet-retrieval bench` with the same parameters, then print markdown tables
# with our value, FAISS's value and the ratio (ours / FAISS).
#
# Usage, from any folder:
#   benchmarks/compressed.sh [--families ivfflat,pq,ivfpq,kmeans,scale] [--repeat N] [--out DIR]
#                            [--peer-dir DIR]
# Defaults: families ivfflat,pq,ivfpq,kmeans (scale takes about ten minutes per side, so ask for it),
# repeat 1, out /tmp/compressed-bench, peer-dir /tmp/faiss-avx2.
# Both sides run single-threaded (k-means also with 2 threads) on Fashion-MNIST: 60,000 base vectors,
# all 10,000 queries, k = 10. The families run one after another, never at the same time, and the
# load average is logged before each run, so noise from other work on the machine stays visible.
# Building the peer needs root (apt-get) the first time; later runs skip the finished steps.
set -euo pipefail

families="ivfflat,pq,ivfpq,kmeans"
repeat=1
out_dir=/tmp/compressed-bench
peer_dir=/tmp/faiss-avx2
while [[ $# -gt 0 ]]; do
    case "$1" in
        --families) families="$2"; shift 2 ;;
        --repeat) repeat="$2"; shift 2 ;;
        --out) out_dir="$2"; shift 2 ;;
        --peer-dir) peer_dir="$2"; shift 2 ;;
        *) echo "error: unknown option '$1'; valid: --families, --repeat, --out, --peer-dir" >&2; exit 2 ;;
    esac
done

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$script_dir/.." && pwd)"
peer="$peer_dir/faiss_ivf_peer"
ground_truth="$peer_dir/fmnist-gt10.ivecs"
mkdir -p "$out_dir"

if [[ ! -x "$peer" ]]; then
    "$script_dir/peers/build_faiss_avx2.sh" "$peer_dir"
fi
dotnet build "$repo_dir/src/MLNetRetrieval.Cli" -c Release --nologo -v quiet >&2
cli=(dotnet "$repo_dir/src/MLNetRetrieval.Cli/bin/Release/net10.0/mlnet-retrieval.dll" bench --json --repeat "$repeat" --max-queries 0)

# Appends "<label> <date> <load averages>" to load.log, so every result has its load next to it.
log_load() {
    echo "$1 $(date -u +%Y-%m-%dT%H:%M:%SZ) $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out_dir/load.log" >&2
}

run_peer() {
    local family="$1"
    log_load "faiss-$family"
    "$peer" --only "$family" --repeat "$repeat" --ground-truth "$ground_truth" --out "$out_dir/faiss-$family.json"
}

run_ours() {
    local name="$1"
    shift
    log_load "ours-$name"
    # Index families pass --threads 1 here, and k-means passes its own thread count.
    [[ "$name" == kmeans-* ]] || set -- "$@" --threads 1
    "${cli[@]}" "$@" > "$out_dir/ours-$name.json"
}

rm -f "$out_dir/load.log"
IFS=',' read -ra selected <<< "$families"
for family in "${selected[@]}"; do
    case "$family" in
        ivfflat)
            run_peer ivfflat
            run_ours ivfflat --types ivf-flat --lists 1024
            ;;
        pq)
            run_peer pq
            run_ours pq --types pq --subquantizers 16
            ;;
        ivfpq)
            run_peer ivfpq
            run_ours ivfpq16 --types ivf-pq --lists 1024 --subquantizers 16 --rerank 100
            run_ours ivfpq56 --types ivf-pq --lists 1024 --subquantizers 56 --rerank 100
            ;;
        kmeans)
            run_peer kmeans
            for threads in 1 2; do
                run_ours "kmeans-t$threads" --kmeans --clusters 1024 --iterations 20 --seed 1234 --threads "$threads"
            done
            ;;
        scale)
            run_peer scale
            run_ours scale --synthetic 1000000 --dimension 128 --types ivf-pq --lists 4096 --subquantizers 16 \
                --k 100 --train-sample 0
            ;;
        *) echo "error: unknown family '$family'; valid: ivfflat, pq, ivfpq, kmeans, scale" >&2; exit 2 ;;
    esac
done
log_load end

/usr/bin/python3 "$script_dir/compressed_tables.py" "$out_dir"
