#!/usr/bin/python3
"""Print markdown tables from the `mlnet-retrieval bench --json` files that ivf_hnsw_scale.sh writes.

Usage: ivf_hnsw_tables.py DIR, where DIR contains nlist<N>.json files and load.log. For each file it prints
the recall and QPS sweep, the coarse-assignment check (graph against brute force) and the saved size by
component. Missing files are skipped.
"""
import glob
import json
import os
import sys

MIB = 1024.0 * 1024.0


def recall(row, cutoff):
    value = row["recallAt"].get(str(cutoff))
    return f"{value:.4f}" if value is not None else "–"


def sweep_table(rows):
    print("| type | nprobe | coarse ef | recall@1 | recall@10 | recall@100 | batch QPS | one-query QPS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ef = row.get("ef")
        print(f"| {row['type']} | {row['probes']} | {ef if ef is not None else '–'} | {recall(row, 1)} | "
              f"{recall(row, 10)} | {recall(row, 100)} | {row['batchQps']:.0f} | {row['singleQps']:.0f} |")
    print()


def build_table(document):
    seen = {}
    for row in document["rows"]:
        name = row["type"].split(" (")[0]
        seen.setdefault(name, row)
    print("| type | build s | saved bytes per vector |")
    print("|---|---:|---:|")
    for name, row in seen.items():
        print(f"| {name} | {row['buildSeconds']:.1f} | {row['bytesPerVector']:.2f} |")
    print()


def coarse_tables(document):
    count = document["baseCount"]
    for check in document.get("coarseChecks", []):
        print(f"{check['type']}, nlist {check['lists']}: train {check['trainSeconds']:.1f} s, "
              f"add {check['addSeconds']:.1f} s.\n")
        print("| coarse assignment | ef | rows checked | µs per vector | whole base, s (scaled) | true nearest centroid |")
        print("|---|---:|---:|---:|---:|---:|")
        for row in check["assignment"]:
            ef = row.get("ef")
            print(f"| {row['method']} | {ef if ef is not None else '–'} | {row['rows']} | "
                  f"{row['microsecondsPerVector']:.1f} | {row['databaseSeconds']:.1f} | {row['agreement']:.4f} |")
        print()
        sizes = check["sizes"]
        print("| saved component | bytes | bytes per vector |")
        print("|---|---:|---:|")
        for key, label in [("codes", "PQ codes"), ("ids", "ids"), ("centroids", "coarse centroids"),
                           ("codebooks", "PQ codebooks"), ("graphAndHeaders", "centroid graph, list sizes, headers"),
                           ("total", "total")]:
            print(f"| {label} | {sizes[key]} | {sizes[key] / count:.2f} |")
        print()


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "/tmp/ivf-hnsw-scale"
    load_log = os.path.join(folder, "load.log")
    if os.path.exists(load_log):
        print("Load average (1, 5, 15 min) at the start of each run:\n")
        with open(load_log) as file:
            for line in file:
                print(f"    {line.rstrip()}")
        print()
    for path in sorted(glob.glob(os.path.join(folder, "nlist*.json"))):
        with open(path) as file:
            document = json.load(file)
        print(f"#### {os.path.basename(path)[:-5]}: {document['baseCount']} × {document['dimension']}, "
              f"{document['queryCount']} queries, k {document['k']}, nlist {document['lists']}, "
              f"M {document['subquantizers']}, training sample {document['trainSample']}\n")
        build_table(document)
        sweep_table(document["rows"])
        coarse_tables(document)
        print(f"Peak working set of the bench process: {document['peakWorkingSetBytes'] / MIB:.0f} MiB.\n")


if __name__ == "__main__":
    main()
