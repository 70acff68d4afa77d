#!/usr/bin/python3
"""hnswlib peer through Debian's Python binding (python3-hnswlib) for the HNSW benchmark.

Builds an HNSW graph over Fashion-MNIST's training split on one thread, then for each efSearch value
measures recall@10 against exact ground truth and queries per second one query at a time (one
knn_query call per query, so the timing includes the binding's per-call overhead). Writes one JSON
document with the same fields as benchmarks/peers/hnswlib_peer.cpp.

Usage: hnswlib_python_peer.py [--ground-truth FILE.ivecs] [--out FILE] [--ef 16,32,...] [--repeat N]
Without --ground-truth, exact neighbors come from a numpy brute-force pass (time not measured).
"""
import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import time

import hnswlib
import numpy as np


def read_images(path):
    with gzip.open(path, "rb") as file:
        data = file.read()
    if int.from_bytes(data[0:4], "big") != 0x00000803:
        raise SystemExit(f"{path}: not an IDX3 uint8 file (magic at offset 0 is not 0x00000803)")
    count = int.from_bytes(data[4:8], "big")
    dimension = int.from_bytes(data[8:12], "big") * int.from_bytes(data[12:16], "big")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, dimension).astype(np.float32)


def read_ivecs(path, rows, k):
    raw = np.fromfile(path, dtype=np.int32)
    width = int(raw[0])
    table = raw.reshape(-1, width + 1)
    if table.shape[0] < rows or width < k:
        raise SystemExit(f"{path}: expected {rows} rows of at least {k} ids, got {table.shape[0]} rows of {width}")
    return table[:rows, 1:k + 1]


def exact_neighbors(base, queries, k):
    base_norms = (base.astype(np.float64) ** 2).sum(axis=1)
    result = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 500):
        block = queries[start:start + 500].astype(np.float64)
        distances = base_norms[None, :] - 2.0 * block @ base.T.astype(np.float64)
        part = np.argpartition(distances, k, axis=1)[:, :k]
        order = np.take_along_axis(distances, part, axis=1).argsort(axis=1)
        result[start:start + 500] = np.take_along_axis(part, order, axis=1)
    return result


def first_line(path):
    with open(path) as file:
        return file.readline().strip()


def cpu_field(prefix):
    with open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    return ""


def package_version(name):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True).stdout or "unknown"
    except OSError:
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--ground-truth", default="")
    parser.add_argument("--out", default="")
    parser.add_argument("--index-path", default="/tmp/hnswlib-python-peer-index.bin")
    parser.add_argument("--ef", default="16,32,64,128,256")
    parser.add_argument("--connectivity", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1)
    options = parser.parse_args()
    ef_values = [int(part) for part in options.ef.split(",") if part]
    loadavg_start, date_start = first_line("/proc/loadavg"), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    k = 10

    base = read_images(os.path.join(options.data_dir, "train-images-idx3-ubyte.gz"))
    queries = read_images(os.path.join(options.data_dir, "t10k-images-idx3-ubyte.gz"))
    truth = (read_ivecs(options.ground_truth, len(queries), k) if options.ground_truth
             else exact_neighbors(base, queries, k))

    index = hnswlib.Index(space="l2", dim=base.shape[1])
    index.init_index(max_elements=len(base), M=options.connectivity, ef_construction=options.ef_construction,
                     random_seed=options.seed)
    index.set_num_threads(1)
    start = time.perf_counter()
    index.add_items(base, np.arange(len(base)), num_threads=1)
    build_seconds = time.perf_counter() - start

    index.save_index(options.index_path)
    index_bytes = os.path.getsize(options.index_path)
    os.remove(options.index_path)

    rows = []
    found = np.empty((len(queries), k), dtype=np.int64)
    for ef in ef_values:
        index.set_ef(ef)
        for q in range(min(16, len(queries))):
            index.knn_query(queries[q:q + 1], k=k, num_threads=1)
        best = float("inf")
        for _ in range(options.repeat):
            start = time.perf_counter()
            for q in range(len(queries)):
                labels, _ = index.knn_query(queries[q:q + 1], k=k, num_threads=1)
                found[q] = labels[0]
            best = min(best, time.perf_counter() - start)
        hits = sum(len(set(found[q].tolist()) & set(truth[q].tolist())) for q in range(len(queries)))
        recall = hits / (len(queries) * k)
        rows.append({"family": "hnsw", "index": f"HNSW{options.connectivity}",
                     "params": {"ef": ef, "M": options.connectivity, "efConstruction": options.ef_construction},
                     "recall_at_10": recall, "single_qps": len(queries) / best, "single_queries": len(queries),
                     "build_s": build_seconds, "index_bytes": index_bytes})
        print(f"[hnswlib_python_peer] ef {ef:4d}: recall@10 {recall:.4f}  single {len(queries) / best:8.0f} QPS", flush=True)

    flags = cpu_field("flags").split()
    document = {
        "peer": "hnswlib-python",
        "machine": {"cpu_model": cpu_field("model name"), "cpu_avx2": "avx2" in flags, "cpu_avx512f": "avx512f" in flags,
                    "hnswlib_version": f"python3-hnswlib {package_version('python3-hnswlib')}",
                    "compiler": f"Python {platform.python_version()}, numpy {np.__version__}",
                    "loadavg_start": loadavg_start, "loadavg_end": first_line("/proc/loadavg"), "date_utc": date_start},
        "base_count": len(base), "query_count": len(queries), "dimension": base.shape[1], "k": k, "threads": 1,
        "repeat": options.repeat, "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "rows": rows,
    }
    text = json.dumps(document, indent=2) + "\n"
    if options.out:
        with open(options.out, "w") as file:
            file.write(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
