#!/usr/bin/python3
"""Compute leave-one-out retrieval metrics on Fashion-MNIST t10k as a reference for the C# code.

Each of the 10000 test images queries the other 9999 images. An item is relevant when it has the
query's label. Items are ranked by exact squared L2 distance on the raw pixel bytes, computed in
float64; equal distances are ordered by lower image index. The script prints Recall@1/10/100,
mAP over the full ranking and MAP@R, each to 6 decimals.

Definitions (N_rel = number of relevant items in the collection, 999 per query here):
  Recall@K  share of queries with at least one relevant item among the first K.
  AP        (1 / N_rel) * sum_i P@i * rel_i over the full ranking; mAP is the mean AP.
  MAP@R     R = N_rel; (1 / R) * sum_{i=1..R} P@i * rel_i, averaged over queries.
Queries without any relevant item would be excluded; none occur on this split.

Usage:
  /usr/bin/python3 tests/reference/retrieval_metrics.py [--data-dir DIR] [--json FILE] [--limit N]

--limit N keeps only the first N test images, as both queries and collection; the C# tests compare
against the values for N = 1000.
"""

import argparse
import gzip
import json
import sys
import time

import numpy as np

RECALL_CUTOFFS = (1, 10, 100)
DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path, expected_magic):
    """Read an IDX file (gzip) and return its unsigned bytes in the shape given by the header."""
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    magic = int.from_bytes(data[0:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{path}: magic number is {magic:#x}, expected {expected_magic:#x}")
    dimension_count = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dimension_count)]
    header_size = 4 + 4 * dimension_count
    values = np.frombuffer(data, dtype=np.uint8, offset=header_size)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header gives shape {shape}, but the file contains {values.size} bytes")
    return values.reshape(shape)


def evaluate(vectors, labels, chunk_size):
    """Return per-query arrays (hit at each cutoff, AP, MAP@R) for leave-one-out retrieval."""
    count = vectors.shape[0]
    x = vectors.reshape(count, -1).astype(np.float64)
    squared_norms = np.einsum("ij,ij->i", x, x)
    label_counts = np.bincount(labels)

    hits = np.zeros((count, len(RECALL_CUTOFFS)), dtype=np.float64)
    average_precision = np.zeros(count, dtype=np.float64)
    map_at_r = np.zeros(count, dtype=np.float64)
    positions = np.arange(1, count, dtype=np.float64)  # 1-based ranks of the other count - 1 items

    for start in range(0, count, chunk_size):
        stop = min(start + chunk_size, count)
        # Pixel values are integers below 256, so every product and sum stays an exact integer in
        # float64 (at most 784 * 255^2 < 2^53): the expansion below gives the exact squared L2.
        distances = squared_norms[start:stop, None] + squared_norms[None, :] - 2.0 * (x[start:stop] @ x.T)
        rows = np.arange(stop - start)
        distances[rows, np.arange(start, stop)] = np.inf  # the query itself goes last, then is cut
        # A stable sort keeps equal distances in index order, so ties go to the lower index.
        order = np.argsort(distances, axis=1, kind="stable")[:, : count - 1]

        relevant = labels[order] == labels[start:stop, None]
        relevant_count = label_counts[labels[start:stop]] - 1
        cumulative_hits = np.cumsum(relevant, axis=1)
        precision = cumulative_hits / positions

        for j, cutoff in enumerate(RECALL_CUTOFFS):
            hits[start:stop, j] = cumulative_hits[:, cutoff - 1] > 0
        average_precision[start:stop] = (precision * relevant).sum(axis=1) / np.maximum(relevant_count, 1)
        for row in range(stop - start):
            r = relevant_count[row]
            if r == 0:
                continue  # excluded from the means: the query's label occurs nowhere else
            map_at_r[start + row] = (precision[row, :r] * relevant[row, :r]).sum() / r

    return hits, average_precision, map_at_r, label_counts[labels] - 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                        help="folder with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz")
    parser.add_argument("--json", metavar="FILE", help="also write the metrics as JSON to FILE ('-' for stdout)")
    parser.add_argument("--limit", type=int, help="use only the first N test images (default: all 10000)")
    parser.add_argument("--chunk-size", type=int, default=500, help="queries per distance block (default 500)")
    args = parser.parse_args()

    images = read_idx(f"{args.data_dir}/t10k-images-idx3-ubyte.gz", 0x00000803)
    labels = read_idx(f"{args.data_dir}/t10k-labels-idx1-ubyte.gz", 0x00000801).astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels")

    if args.limit is not None:
        if not 2 <= args.limit <= images.shape[0]:
            parser.error(f"--limit must be between 2 and {images.shape[0]}, got {args.limit}")
        images, labels = images[: args.limit], labels[: args.limit]

    started = time.perf_counter()
    hits, average_precision, map_at_r, relevant_counts = evaluate(images, labels, args.chunk_size)
    elapsed = time.perf_counter() - started

    evaluated = relevant_counts > 0
    metrics = {f"recall_at_{cutoff}": float(hits[evaluated, j].mean()) for j, cutoff in enumerate(RECALL_CUTOFFS)}
    metrics["mean_average_precision"] = float(average_precision[evaluated].mean())
    metrics["map_at_r"] = float(map_at_r[evaluated].mean())
    metrics["evaluated_queries"] = int(evaluated.sum())
    metrics["excluded_queries"] = int((~evaluated).sum())
    metrics["image_count"] = int(images.shape[0])

    for name, value in metrics.items():
        print(f"{name:24} {value:.6f}" if isinstance(value, float) else f"{name:24} {value}")
    print(f"elapsed_seconds          {elapsed:.1f}", file=sys.stderr)

    if args.json == "-":
        json.dump(metrics, sys.stdout, indent=2)
        print()
    elif args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(metrics, stream, indent=2)
            stream.write("\n")


if __name__ == "__main__":
    main()
