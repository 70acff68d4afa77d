#!/usr/bin/python3
"""Print markdown tables comparing `mlnet-retrieval bench --json` output with the FAISS peer's JSON.

Usage: compressed_tables.py DIR, where DIR holds the files benchmarks/compressed.sh writes:
faiss-<family>.json, ours-<name>.json and load.log. Ratios are ours / FAISS, so above 1.0 means
faster for QPS and slower for k-means seconds. Families with a missing file are skipped.
"""
import json
import os
import sys


def load(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    with open(path) as file:
        return json.load(file)


def ratio(ours, theirs):
    return f"{ours / theirs:.2f}" if theirs else "–"


def faiss_rows(document, index_name):
    """Maps nprobe (None for PQ) to the peer's row for one index name."""
    rows = {}
    for row in document["rows"]:
        if row["index"] == index_name:
            rows[row["params"].get("nprobe")] = row
    return rows


def search_table(title, ours_rows, theirs, ours_bytes_note=None):
    print(f"#### {title}\n")
    print("| nprobe | recall@10 ours | FAISS | Δ | batch QPS ours | FAISS | ratio | one-query QPS ours | FAISS | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in ours_rows:
        probe = row.get("probes")
        peer = theirs.get(probe)
        if peer is None:
            continue
        print(f"| {probe if probe is not None else '–'} | {row['recall']:.4f} | {peer['recall_at_10']:.4f} "
              f"| {row['recall'] - peer['recall_at_10']:+.4f} "
              f"| {row['batchQps']:.0f} | {peer['batch_qps']:.0f} | {ratio(row['batchQps'], peer['batch_qps'])} "
              f"| {row['singleQps']:.0f} | {peer['single_qps']:.0f} | {ratio(row['singleQps'], peer['single_qps'])} |")
    first_ours = ours_rows[0]
    first_peer = next(iter(theirs.values()))
    ours_bytes = ours_bytes_note or f"{first_ours['bytesPerVector']:.1f}"
    print(f"\nBuild: ours {first_ours['buildSeconds']:.1f} s, FAISS {first_peer['build_s']:.1f} s "
          f"(ratio {ratio(first_ours['buildSeconds'], first_peer['build_s'])}). "
          f"Bytes per vector: ours {ours_bytes}, FAISS {first_peer['index_bytes'] / 60000:.1f}.\n")


def print_load(folder):
    path = os.path.join(folder, "load.log")
    if os.path.exists(path):
        print("Load average (1, 5, 15 min) at the start of each run:\n")
        with open(path) as file:
            for line in file:
                print(f"    {line.rstrip()}")
        print()


def main():
    folder = sys.argv[1]
    print_load(folder)

    flat_ours, flat_peer = load(folder, "ours-ivfflat.json"), load(folder, "faiss-ivfflat.json")
    if flat_ours and flat_peer:
        search_table("IVF-Flat, nlist 1024", flat_ours["rows"], faiss_rows(flat_peer, "IVF1024,Flat"))

    pq_ours, pq_peer = load(folder, "ours-pq.json"), load(folder, "faiss-pq.json")
    if pq_ours and pq_peer:
        search_table("PQ16 exhaustive", pq_ours["rows"], faiss_rows(pq_peer, "PQ16"))

    ivfpq_peer = load(folder, "faiss-ivfpq.json")
    for m in (16, 56):
        ours = load(folder, f"ours-ivfpq{m}.json")
        if not (ours and ivfpq_peer):
            continue
        plain = [row for row in ours["rows"] if row["rerank"] == 0]
        reranked = [row for row in ours["rows"] if row["rerank"] > 0]
        # The plain rows search the index built for re-ranking, whose size includes the raw vectors.
        note = "not measured (the index also stores the raw vectors for re-ranking)" if reranked else None
        search_table(f"IVF-PQ, nlist 1024, M {m}", plain, faiss_rows(ivfpq_peer, f"IVF1024,PQ{m}"), note)
        if reranked:
            search_table(f"IVF-PQ, nlist 1024, M {m}, re-ranking the top 100 (FAISS IndexRefineFlat k_factor 10)",
                         reranked, faiss_rows(ivfpq_peer, f"IVF1024,PQ{m},RFlat"))

    kmeans_peer = load(folder, "faiss-kmeans.json")
    kmeans_ours = {t: load(folder, f"ours-kmeans-t{t}.json") for t in (1, 2)}
    if kmeans_peer and any(kmeans_ours.values()):
        print("#### k-means, d 784, k 1024, 60,000 points, 20 iterations\n")
        print("| threads | seconds ours (best) | FAISS (best) | ratio | objective ours | FAISS |")
        print("|---:|---:|---:|---:|---:|---:|")
        for threads, ours in kmeans_ours.items():
            peer = [row for row in kmeans_peer["kmeans"] if row["threads"] == threads]
            if not (ours and peer):
                continue
            ours_best = min(ours["rows"], key=lambda row: row["seconds"])
            peer_best = min(peer, key=lambda row: row["seconds"])
            print(f"| {threads} | {ours_best['seconds']:.2f} | {peer_best['seconds']:.2f} "
                  f"| {ratio(ours_best['seconds'], peer_best['seconds'])} "
                  f"| {ours_best['objective']:.6g} | {peer_best['objective']:.6g} |")
        print()

    scale_ours, scale_peer = load(folder, "ours-scale.json"), load(folder, "faiss-scale.json")
    if scale_ours and scale_peer:
        peer_rows = {row["params"]["nprobe"]: row for row in scale_peer["scale"] if row["family"] == "scale"}
        summary = next(row for row in scale_peer["scale"] if row["family"] == "scale_summary")
        print("#### Scale: IVF-PQ nlist 4096, M 16, 1,000,000 synthetic 128-d vectors, k 100\n")
        print("| nprobe | recall@1 ours / FAISS | recall@10 ours / FAISS | recall@100 ours / FAISS | batch QPS ours | FAISS | ratio |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for row in scale_ours["rows"]:
            peer = peer_rows.get(row["probes"])
            if peer is None:
                continue
            at = row["recallAt"]
            print(f"| {row['probes']} | {at['1']:.4f} / {peer['recall_at_1']:.4f} | {at['10']:.4f} / {peer['recall_at_10']:.4f} "
                  f"| {at['100']:.4f} / {peer['recall_at_100']:.4f} | {row['batchQps']:.0f} | {peer['batch_qps']:.0f} "
                  f"| {ratio(row['batchQps'], peer['batch_qps'])} |")
        first = scale_ours["rows"][0]
        print(f"\nBuild: ours {first['buildSeconds']:.1f} s, FAISS {summary['build_s']:.1f} s. "
              f"Bytes per vector: ours {first['bytesPerVector']:.2f}, FAISS {summary['bytes_per_vector']:.2f}. "
              f"Peak memory: ours {scale_ours['peakWorkingSetBytes'] / 2**20:.0f} MiB (peak working set), "
              f"FAISS {summary['peak_rss_kib'] / 1024:.0f} MiB (peak RSS).\n")


if __name__ == "__main__":
    main()
