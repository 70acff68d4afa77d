#!/usr/bin/python3
"""Print a markdown table comparing `mlnet-retrieval bench --types hnsw --json` with the hnswlib peer.

Usage: hnsw_tables.py DIR, where DIR contains the files benchmarks/hnsw.sh writes: hnswlib.json,
ours-hnsw.json and load.log. Ratios are ours / hnswlib, so above 1.0 means more queries per second
and, for build time, a slower build.
"""
import json
import os
import sys


def load(folder, name):
    with open(os.path.join(folder, name)) as file:
        return json.load(file)


def ratio(ours, theirs):
    return f"{ours / theirs:.2f}" if theirs else "–"


def main():
    folder = sys.argv[1]
    ours, peer = load(folder, "ours-hnsw.json"), load(folder, "hnswlib.json")
    load_log = os.path.join(folder, "load.log")
    if os.path.exists(load_log):
        print("Load average (1, 5, 15 min) at the start of each run:\n")
        with open(load_log) as file:
            for line in file:
                print(f"    {line.rstrip()}")
        print()

    peer_rows = {row["params"]["ef"]: row for row in peer["rows"]}
    print(f"#### HNSW, M {ours['connectivity']}, efConstruction {ours['efConstruction']}, "
          f"{ours['baseCount']} base vectors, {ours['queryCount']} queries, k {ours['k']}\n")
    print("| ef | recall@10 ours | hnswlib | Δ | one-query QPS ours | hnswlib | ratio | batch QPS ours |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in ours["rows"]:
        other = peer_rows.get(row["ef"])
        if other is None:
            continue
        print(f"| {row['ef']} | {row['recall']:.4f} | {other['recall_at_10']:.4f} | {row['recall'] - other['recall_at_10']:+.4f} "
              f"| {row['singleQps']:.0f} | {other['single_qps']:.0f} | {ratio(row['singleQps'], other['single_qps'])} "
              f"| {row['batchQps']:.0f} |")
    first_ours, first_peer = ours["rows"][0], peer["rows"][0]
    print(f"\nBuild (one thread): ours {first_ours['buildSeconds']:.1f} s, hnswlib {first_peer['build_s']:.1f} s "
          f"(ratio {ratio(first_ours['buildSeconds'], first_peer['build_s'])}). "
          f"Bytes per vector: ours {first_ours['bytesPerVector']:.1f}, hnswlib {first_peer['index_bytes'] / peer['base_count']:.1f}. "
          f"Peak memory: ours {ours['peakWorkingSetBytes'] / 2**20:.0f} MiB (peak working set), "
          f"hnswlib {peer['peak_rss_kib'] / 1024:.0f} MiB (peak RSS).\n")
    machine = peer["machine"]
    print(f"Peer: hnswlib {machine['hnswlib_version']}, {machine['compiler']}, CPU {machine['cpu_model']} "
          f"(AVX2 {machine['cpu_avx2']}, AVX-512F {machine['cpu_avx512f']}).")


if __name__ == "__main__":
    main()
