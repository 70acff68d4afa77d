"""FAISS IndexFlatL2 peer for the exact-search benchmark.

Reads Fashion-MNIST IDX files, times IndexFlatL2.search (k=10) over all test queries at each requested
thread count, and prints one JSON object per line on stdout. With --ground-truth PATH it also writes the
float64 ground truth (int64 ids, shape queries x k, little-endian) to PATH unless that file already exists.
"""

import argparse
import ctypes
import gzip
import json
import os
import sys
import time

import faiss
import numpy as np


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count, rows, cols = np.frombuffer(data[:16], dtype=">u4")
    if magic != 0x00000803:
        raise ValueError(f"{path}: expected IDX magic 0x00000803, got {magic:#010x}")
    pixels = np.frombuffer(data[16:], dtype=np.uint8)
    return pixels.reshape(int(count), int(rows) * int(cols)).astype(np.float32)


def openblas_info():
    """Return the config string and core name of the OpenBLAS loaded into this process, if any."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "blas" in line and line.split()[-1].startswith("/")})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return {"library": path, "config": lib.openblas_get_config().decode(), "core": lib.openblas_get_corename().decode()}
        except (OSError, AttributeError):
            continue
    return {"library": None, "config": None, "core": None}


def ground_truth(base, queries, k, chunk=500):
    """Exact k-NN in float64; ties go to the lower id, as in the library under test."""
    base64 = base.astype(np.float64)
    base_norms = (base64 ** 2).sum(axis=1)
    result = np.empty((queries.shape[0], k), dtype=np.int64)
    for start in range(0, queries.shape[0], chunk):
        q = queries[start:start + chunk].astype(np.float64)
        dist = (q ** 2).sum(axis=1)[:, None] + base_norms[None, :] - 2.0 * (q @ base64.T)
        # Stable sort of the candidates from argpartition keeps ties in id order.
        part = np.argpartition(dist, k + 20, axis=1)[:, :k + 20]
        for row in range(q.shape[0]):
            cand = np.sort(part[row])
            order = np.argsort(dist[row, cand], kind="stable")
            result[start + row] = cand[order[:k]]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="folder with {train,t10k}-images-idx3-ubyte.gz")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--repeats", type=int, default=3, help="timed searches per thread count")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--queries", type=int, default=0, help="use only the first N queries (0 = all)")
    parser.add_argument("--ground-truth", help="write float64 ground-truth ids here if the file is missing")
    args = parser.parse_args()

    base = read_idx_images(os.path.join(args.data, "train-images-idx3-ubyte.gz"))
    queries = read_idx_images(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
    if args.queries > 0:
        queries = queries[:args.queries]
    queries = np.ascontiguousarray(queries)

    index = faiss.IndexFlatL2(base.shape[1])
    index.add(base)
    print(json.dumps({"kind": "info", "faiss": faiss.__version__, "numpy": np.__version__,
                      "openblas": openblas_info(),
                      "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
                      "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE")}), flush=True)

    found = None
    for threads in [int(t) for t in args.threads.split(",")]:
        faiss.omp_set_num_threads(threads)
        index.search(queries[:256], args.k)  # warm-up
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            _, found = index.search(queries, args.k)
            seconds.append(time.perf_counter() - start)
        print(json.dumps({"kind": "timing", "threads": threads, "seconds": seconds,
                          "queries": int(queries.shape[0])}), flush=True)

    if args.ground_truth:
        if not os.path.exists(args.ground_truth):
            truth = ground_truth(base, queries, args.k)
            truth.astype("<i8").tofile(args.ground_truth)
        truth = np.fromfile(args.ground_truth, dtype="<i8").reshape(queries.shape[0], args.k)
        if found is not None:
            hits = sum(len(set(found[i]) & set(truth[i])) for i in range(truth.shape[0]))
            print(json.dumps({"kind": "recall", "recall": hits / truth.size}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
