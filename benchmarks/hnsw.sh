#!/usr/bin/env bash
# HNSW comparison with three peers in one run on one machine. The peers are native hnswlib (Debian's
# header-only libhnswlib-dev, compiled here), hnswlib through Debian's Python binding (python3-hnswlib)
# and USearch (NuGet Cloud.Unum.USearch 2.26.6, driven by a small C# program). After them runs
# `mlnet-retrieval bench --types hnsw` with the same graph settings. A second, smaller pass compares two-thread build and batch search
# with native hnswlib. benchmarks/hnsw_tables.py prints the markdown tables (ratios are ours / peer).
#
# Usage, from any folder:
#   benchmarks/hnsw.sh [--repeat N] [--out DIR] [--ground-truth FILE.ivecs]
# Defaults: repeat 1, out /tmp/hnsw-bench, ground truth /tmp/faiss-avx2/fmnist-gt10.ivecs when that
# file exists (benchmarks/peers/build_faiss_avx2.sh writes it); otherwise the peer computes exact
# neighbors itself with hnswlib's brute-force index (slower, time not measured).
# Every run uses Fashion-MNIST: 60,000 base vectors, all 10,000 queries, k = 10, M 16 (USearch:
# connectivity 16), efConstruction 200, efSearch 16, 32, 64, 128 and 256. The single-thread runs come
# first, then the two-thread runs. Runs follow each other, never overlap, and the load average is
# logged before each, so noise from other work stays visible.
# Needs: apt-get install -y libhnswlib-dev zlib1g-dev python3-hnswlib, and NuGet access for the first
# build of benchmarks/peers/usearch-peer.
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
    g++ -O3 -march=native -DNDEBUG -std=c++17 "$source_file" -lz -lpthread -o "$peer"
fi
if ! /usr/bin/python3 -c 'import hnswlib' 2>/dev/null; then
    echo "error: /usr/bin/python3 cannot import hnswlib; run apt-get install -y python3-hnswlib" >&2
    exit 1
fi
hnswlib_version="$(dpkg-query -W -f='${Version}' libhnswlib-dev 2>/dev/null || echo unknown)"
dotnet build "$repo_dir/src/MLNetRetrieval.Cli" -c Release --nologo -v quiet >&2
dotnet build "$script_dir/peers/usearch-peer" -c Release --nologo -v quiet >&2

# Appends "<label> <date> <load averages>" to load.log, so every result has its load next to it.
log_load() {
    echo "$1 $(date -u +%Y-%m-%dT%H:%M:%SZ) $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out_dir/load.log" >&2
}

common_args=(--ef "$ef_values" --connectivity 16 --ef-construction 200 --repeat "$repeat")
[[ -f "$ground_truth" ]] && common_args+=(--ground-truth "$ground_truth")
peer_args=("${common_args[@]}" --seed 100 --hnswlib-version "libhnswlib-dev $hnswlib_version"
    --index-path "$out_dir/hnswlib-index.bin")
ours=(dotnet "$repo_dir/src/MLNetRetrieval.Cli/bin/Release/net10.0/mlnet-retrieval.dll" bench --json --types hnsw
    --max-queries 0 --repeat "$repeat" --connectivity 16 --ef-construction 200 --ef "$ef_values")

rm -f "$out_dir/load.log"
log_load hnswlib
"$peer" "${peer_args[@]}" --threads 1 --out "$out_dir/hnswlib.json"
log_load hnswlib-python
/usr/bin/python3 "$script_dir/peers/hnswlib_python_peer.py" "${common_args[@]}" --seed 100 \
    --index-path "$out_dir/hnswlib-python-index.bin" --out "$out_dir/hnswlib-python.json"
log_load usearch
dotnet "$script_dir/peers/usearch-peer/bin/Release/net10.0/UsearchPeer.dll" "${common_args[@]}" \
    --index-path "$out_dir/usearch-index.bin" --out "$out_dir/usearch.json"
log_load ours
"${ours[@]}" --threads 1 > "$out_dir/ours-hnsw.json"
log_load hnswlib-2threads
"$peer" "${peer_args[@]}" --threads 2 --out "$out_dir/hnswlib-2threads.json"
log_load ours-2threads
"${ours[@]}" --threads 2 > "$out_dir/ours-hnsw-2threads.json"
log_load end

/usr/bin/python3 "$script_dir/hnsw_tables.py" "$out_dir"
