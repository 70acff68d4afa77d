#!/usr/bin/python3
"""Print markdown tables comparing `mlnet-retrieval bench --types hnsw --json` with the HNSW peers.

Usage: hnsw_tables.py DIR, where DIR contains the files benchmarks/hnsw.sh writes: ours-hnsw.json,
hnswlib.json, hnswlib-python.json, usearch.json, load.log and, for the two-thread table,
ours-hnsw-2threads.json and hnswlib-2threads.json. A missing peer file drops that peer's columns.
Ratios are ours / peer, so above 1.0 means more queries per second and, for build time, a slower build.
"""
import json
import os
import sys

PEERS = [("hnswlib.json", "hnswlib C++"), ("hnswlib-python.json", "hnswlib Python"), ("usearch.json", "USearch")]


def load(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    with open(path) as file:
        return json.load(file)


def ratio(ours, theirs):
    return f"{ours / theirs:.2f}" if theirs else "–"


def main():
    folder = sys.argv[1]
    ours = load(folder, "ours-hnsw.json")
    peers = [(label, document, {row["params"]["ef"]: row for row in document["rows"]})
             for name, label in PEERS if (document := load(folder, name)) is not None]
    load_log = os.path.join(folder, "load.log")
    if os.path.exists(load_log):
        print("Load average (1, 5, 15 min) at the start of each run:\n")
        with open(load_log) as file:
            for line in file:
                print(f"    {line.rstrip()}")
        print()

    print(f"#### HNSW, one thread, M {ours['connectivity']}, efConstruction {ours['efConstruction']}, "
          f"{ours['baseCount']} base vectors, {ours['queryCount']} queries, k {ours['k']}\n")
    labels = [label for label, _, _ in peers]
    print("Recall@10:\n")
    print("| ef | ours | " + " | ".join(labels) + " |")
    print("|---:|---:|" + "---:|" * len(peers))
    for row in ours["rows"]:
        cells = [f"{rows[row['ef']]['recall_at_10']:.4f}" if row["ef"] in rows else "–" for _, _, rows in peers]
        print(f"| {row['ef']} | {row['recall']:.4f} | " + " | ".join(cells) + " |")

    print("\nOne-query QPS (ratio = ours / peer) and ours' one-call batch QPS:\n")
    print("| ef | ours | " + " | ".join(f"{label} | ratio" for label in labels) + " | batch ours |")
    print("|---:|---:|" + "---:|---:|" * len(peers) + "---:|")
    for row in ours["rows"]:
        cells = []
        for _, _, rows in peers:
            other = rows.get(row["ef"])
            cells += [f"{other['single_qps']:.0f}", ratio(row["singleQps"], other["single_qps"])] if other else ["–", "–"]
        print(f"| {row['ef']} | {row['singleQps']:.0f} | " + " | ".join(cells) + f" | {row['batchQps']:.0f} |")

    first = ours["rows"][0]
    print("\nBuild on one thread and size:\n")
    print("| | build s | ratio ours / peer | bytes per vector | peak memory MiB |")
    print("|---|---:|---:|---:|---:|")
    print(f"| ours | {first['buildSeconds']:.1f} | | {first['bytesPerVector']:.1f} | {ours['peakWorkingSetBytes'] / 2**20:.0f} |")
    for label, document, _ in peers:
        row = document["rows"][0]
        print(f"| {label} | {row['build_s']:.1f} | {ratio(first['buildSeconds'], row['build_s'])} "
              f"| {row['index_bytes'] / document['base_count']:.1f} | {document['peak_rss_kib'] / 1024:.0f} |")
    print("\nPeers:")
    for label, document, _ in peers:
        machine = document["machine"]
        print(f"- {label}: {machine['hnswlib_version']}, {machine['compiler']}")
    machine = peers[0][1]["machine"] if peers else None
    if machine:
        print(f"\nCPU {machine['cpu_model']} (AVX2 {machine['cpu_avx2']}, AVX-512F {machine['cpu_avx512f']}).")

    ours2, peer2 = load(folder, "ours-hnsw-2threads.json"), load(folder, "hnswlib-2threads.json")
    if ours2 is None or peer2 is None:
        return
    peer2_rows = {row["params"]["ef"]: row for row in peer2["rows"]}
    ours1_rows = {row["ef"]: row for row in ours["rows"]}
    print(f"\n#### Two threads: build and batch search, ours vs hnswlib C++ ({peer2['threads']} threads)\n")
    print("| ef | recall@10 ours | hnswlib | batch QPS ours | hnswlib | ratio | ours 2 / 1 thread |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in ours2["rows"]:
        other = peer2_rows.get(row["ef"])
        if other is None:
            continue
        one = ours1_rows.get(row["ef"])
        scaling = ratio(row["batchQps"], one["batchQps"]) if one else "–"
        print(f"| {row['ef']} | {row['recall']:.4f} | {other['recall_at_10']:.4f} | {row['batchQps']:.0f} "
              f"| {other['batch_qps']:.0f} | {ratio(row['batchQps'], other['batch_qps'])} | {scaling} |")
    b2, p2, p1 = ours2["rows"][0]["buildSeconds"], peer2["rows"][0]["build_s"], peers[0][1]["rows"][0]["build_s"] if peers else 0
    print(f"\nBuild on two threads: ours {b2:.1f} s, hnswlib {p2:.1f} s (ratio {ratio(b2, p2)}). "
          f"Speed-up over one thread: ours {ratio(first['buildSeconds'], b2)}×, hnswlib {ratio(p1, p2)}×.")


if __name__ == "__main__":
    main()
