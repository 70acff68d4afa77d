#!/usr/bin/env bash
# HNSW comparison with hnswlib (Debian's header-only libhnswlib-dev) in one run on one machine: build
# and run the native peer, then `mlnet-retrieval bench --types hnsw` with the same graph settings, then
# print a markdown table with our value, hnswlib's value and the ratio (ours / hnswlib).
#
# Usage, from any folder:
#   benchmarks/hnsw.sh [--repeat N] [--out DIR] [--ground-truth FILE.ivecs]
# Defaults: repeat 1, out /tmp/hnsw-bench, ground truth /tmp/faiss-avx2/fmnist-gt10.ivecs when that
# file exists (benchmarks/peers/build_faiss_avx2.sh writes it); otherwise the peer computes exact
# neighbors itself with hnswlib's brute-force index (slower, time not measured).
# Both sides run single-threaded on Fashion-MNIST: 60,000 base vectors, all 10,000 queries, k = 10,
# M 16, efConstruction 200, efSearch 16, 32, 64, 128 and 256. The two runs follow each other, never
# overlap, and the load average is logged before each, so noise from other work stays visible.
# Compiling the peer needs libhnswlib-dev and zlib1g-dev (apt-get install -y libhnswlib-dev zlib1g-dev).
set -euo pipefail

repeat=1
out_dir=/tmp/hnsw-bench
ground_truth=/tmp/faiss-avx2/fmnist-gt10.ivecs
while [[ $# -gt 0 ]]; do
    case "$1" in
        --repeat) repeat="$2"; shift 2 ;;
        --out) out_dir="$2"; shift 2 ;;
        --ground-truth) ground_truth="$2"; shift 2 ;;
        *) echo "error: unknown option '$1'; valid: --repeat, --out, --ground-truth" >&2; exit 2 ;;
    esac
done

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$script_dir/.." && pwd)"
source_file="$script_dir/peers/hnswlib_peer.cpp"
peer="$out_dir/hnswlib_peer"
ef_values=16,32,64,128,256
mkdir -p "$out_dir"

if [[ ! -f /usr/include/hnswlib/hnswlib.h ]]; then
    echo "error: /usr/include/hnswlib/hnswlib.h is missing; run apt-get install -y libhnswlib-dev zlib1g-dev" >&2
    exit 1
fi
if [[ ! -x "$peer" || "$source_file" -nt "$peer" ]]; then
    g++ -O3 -march=native -DNDEBUG -std=c++17 "$source_file" -lz -o "$peer"
fi
hnswlib_version="$(dpkg-query -W -f='${Version}' libhnswlib-dev 2>/dev/null || echo unknown)"
dotnet build "$repo_dir/src/MLNetRetrieval.Cli" -c Release --nologo -v quiet >&2

# Appends "<label> <date> <load averages>" to load.log, so every result has its load next to it.
log_load() {
    echo "$1 $(date -u +%Y-%m-%dT%H:%M:%SZ) $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out_dir/load.log" >&2
}

peer_args=(--ef "$ef_values" --connectivity 16 --ef-construction 200 --seed 100 --repeat "$repeat"
    --hnswlib-version "libhnswlib-dev $hnswlib_version" --index-path "$out_dir/hnswlib-index.bin"
    --out "$out_dir/hnswlib.json")
[[ -f "$ground_truth" ]] && peer_args+=(--ground-truth "$ground_truth")

rm -f "$out_dir/load.log"
log_load hnswlib
"$peer" "${peer_args[@]}"
log_load ours
dotnet "$repo_dir/src/MLNetRetrieval.Cli/bin/Release/net10.0/mlnet-retrieval.dll" bench --json --types hnsw \
    --max-queries 0 --threads 1 --repeat "$repeat" --connectivity 16 --ef-construction 200 --ef "$ef_values" \
    > "$out_dir/ours-hnsw.json"
log_load end

/usr/bin/python3 "$script_dir/hnsw_tables.py" "$out_dir"
