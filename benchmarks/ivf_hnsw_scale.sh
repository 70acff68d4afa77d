#!/usr/bin/env bash
# IVF-PQ with an HNSW coarse quantizer at large nlist, on 1,000,000 seeded synthetic 128-d vectors (the
# clustered generator of `bench --synthetic`, the same data as the compressed benchmark's scale run).
#
# Usage, from any folder:
#   benchmarks/ivf_hnsw_scale.sh [--runs nlist16384,nlist65536] [--queries N] [--out DIR]
# Defaults: both runs, 1000 queries, out /tmp/ivf-hnsw-scale.
#
# Run nlist16384 builds ivf-pq (brute-force coarse step) and ivf-hnsw-pq over the same data with the same
# training sample, so the effect of graph assignment and graph probing on recall and QPS shows side by side.
# Run nlist65536 builds only ivf-hnsw-pq, because brute-force assignment of the whole base at that nlist
# takes minutes; --coarse-check measures brute force on the first 10,000 base vectors instead, and exact
# probing is measured on the built lists.
# Both runs use PQ M = 16 (16-byte codes), coarse graph M = 32, k = 100 and --threads 2 (batch search,
# k-means and the exact ground truth on two threads; the centroid graph is always built on one thread,
# and IvfPqIndex.Add and the --coarse-check assignments use every core). One-query QPS searches one
# query per call. k-means is seeded at random (--init random, as FAISS seeds), because k-means++ makes
# nlist sequential passes over the sample. It trains on a seeded sample of 8 (nlist 16384) or 2 (nlist
# 65536) vectors per centroid for 10 (nlist 16384) or 4 (nlist 65536) Lloyd iterations, because one
# iteration over all 1,000,000 vectors at nlist 65536 costs about 8.4e12 multiply-adds. The graph
# assigns with efSearch 16 (--coarse-ef) while training and adding. The runs follow each other, and
# the load average is logged before each.
set -euo pipefail

runs="nlist16384,nlist65536"
queries=1000
out_dir=/tmp/ivf-hnsw-scale
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --queries) queries="$2"; shift 2 ;;
        --out) out_dir="$2"; shift 2 ;;
        *) echo "error: unknown option '$1'; valid: --runs, --queries, --out" >&2; exit 2 ;;
    esac
done

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$script_dir/.." && pwd)"
mkdir -p "$out_dir"
dotnet build "$repo_dir/src/MLNetRetrieval.Cli" -c Release --nologo -v quiet >&2
cli=(dotnet "$repo_dir/src/MLNetRetrieval.Cli/bin/Release/net10.0/mlnet-retrieval.dll" bench --json
     --synthetic 1000000 --dimension 128 --max-queries "$queries" --k 100 --subquantizers 16
     --connectivity 32 --repeat 1)

# Appends "<label> <date> <load averages>" to load.log, so every result has its load next to it.
log_load() {
    echo "$1 $(date -u +%Y-%m-%dT%H:%M:%SZ) $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out_dir/load.log" >&2
}

rm -f "$out_dir/load.log"
IFS=',' read -ra selected <<< "$runs"
for run in "${selected[@]}"; do
    log_load "$run"
    case "$run" in
        nlist16384)
            "${cli[@]}" --types ivf-pq,ivf-hnsw-pq --lists 16384 --train-sample 131072 --iterations 10 --init random \
                --coarse-ef 16 --threads 2 --probes 1,4,16,64 --ef 16,64 --coarse-check 20000 > "$out_dir/$run.json"
            ;;
        nlist65536)
            "${cli[@]}" --types ivf-hnsw-pq --lists 65536 --train-sample 131072 --iterations 4 --init random \
                --coarse-ef 16 --threads 2 --probes 1,4,16,64 --ef 16,64 --coarse-check 10000 > "$out_dir/$run.json"
            ;;
        *) echo "error: unknown run '$run'; valid: nlist16384, nlist65536" >&2; exit 2 ;;
    esac
done
log_load end

/usr/bin/python3 "$script_dir/ivf_hnsw_tables.py" "$out_dir"
