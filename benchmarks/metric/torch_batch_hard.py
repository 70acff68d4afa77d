#!/usr/bin/python3
"""Trains batch-hard triplet loss on Fashion-MNIST with PyTorch, to show whether the embeddings collapse.

It checks the collapse that `train-metric --loss triplet --mining batch-hard` shows, independently of our
code. PyTorch computes the gradients with autograd instead of our hand-written backward passes. If it also
drives every embedding to the same point, the collapse comes from the training dynamics, not from a bug.

The network is Linear(784, 512), optional BatchNorm1d(512), ReLU, Linear(512, 128), then F.normalize, with
Xavier-uniform weights and zero biases as in our trainer. Each batch contains K random rows of each of the
10 classes. The loss is the batch-hard triplet loss on squared distances, either the hinge
max(0, D2(a,p) - D2(a,n) + margin) or, with --soft-margin, log(1 + exp(D2(a,p) - D2(a,n))).
The optimizer is Adam or SGD with momentum 0.9, with weight decay 5e-4 and a constant learning rate.
Every 50 steps it prints the step, the batch loss and the mean squared distance between the batch's
embeddings. A mean distance that falls towards 0 while the loss stays at the margin (or log 2) is a collapse.

Usage: /usr/bin/python3 benchmarks/metric/torch_batch_hard.py [--batch-norm] [--soft-margin] [--margin M]
           [--per-class K] [--optimizer adam|sgd] [--lr RATE] [--steps N] [--data DIR]
"""
import argparse
import gzip

import numpy as np
import torch


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    found = int.from_bytes(data[0:4], "big")
    if found != magic:
        raise SystemExit(f"{path}: expected IDX magic {magic:#010x}, got {found:#010x}")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(magic & 0xFF)]
    offset = 4 + 4 * len(dims)
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def batch_hard_loss(embeddings, labels, margin, soft_margin):
    distances = torch.cdist(embeddings, embeddings) ** 2
    same = labels[:, None] == labels[None, :]
    hardest_positive = torch.where(same, distances, torch.zeros_like(distances)).max(dim=1).values
    hardest_negative = torch.where(same, torch.full_like(distances, float("inf")), distances).min(dim=1).values
    difference = hardest_positive - hardest_negative
    if soft_margin:
        return torch.nn.functional.softplus(difference).mean(), distances.mean()
    return torch.clamp(difference + margin, min=0.0).mean(), distances.mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-norm", action="store_true", help="add BatchNorm1d after the hidden linear layer")
    parser.add_argument("--soft-margin", action="store_true", help="use log(1 + exp(D2(a,p) - D2(a,n))) instead of the hinge")
    parser.add_argument("--margin", type=float, default=0.2, help="hinge margin on squared distances (default 0.2)")
    parser.add_argument("--per-class", type=int, default=8, help="rows per class in a batch, K (default 8)")
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--lr", type=float, default=1e-3, help="constant learning rate (default 1e-3)")
    parser.add_argument("--steps", type=int, default=400, help="optimizer steps (default 400)")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    images = read_idx(f"{args.data}/train-images-idx3-ubyte.gz", 0x803).reshape(-1, 784).astype(np.float32) / 255
    labels = read_idx(f"{args.data}/train-labels-idx1-ubyte.gz", 0x801).astype(np.int64)
    rows_by_class = [np.flatnonzero(labels == c) for c in range(10)]

    layers = [torch.nn.Linear(784, 512)]
    if args.batch_norm:
        layers.append(torch.nn.BatchNorm1d(512))
    layers += [torch.nn.ReLU(), torch.nn.Linear(512, 128)]
    network = torch.nn.Sequential(*layers)
    for layer in network:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)

    if args.optimizer == "adam":
        optimizer = torch.optim.Adam(network.parameters(), lr=args.lr, weight_decay=5e-4)
    else:
        optimizer = torch.optim.SGD(network.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)

    for step in range(args.steps + 1):
        batch = np.concatenate([rng.choice(rows, args.per_class, replace=False) for rows in rows_by_class])
        embeddings = torch.nn.functional.normalize(network(torch.from_numpy(images[batch])), dim=1)
        loss, mean_distance = batch_hard_loss(embeddings, torch.from_numpy(labels[batch]), args.margin, args.soft_margin)
        if step % 50 == 0:
            print(f"step {step}: loss {loss.item():.4f}, mean squared distance {mean_distance.item():.4f}", flush=True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
