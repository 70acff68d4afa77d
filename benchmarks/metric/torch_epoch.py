#!/usr/bin/python3
"""Times training epochs of the 784 -> 512 -> 128 MLP on Fashion-MNIST with PyTorch on the CPU.

The network, loss and optimizer match the --metric-epoch mode of MLNetRetrieval.Benchmarks. The network is
Linear(784, 512), ReLU, Linear(512, 128), and the loss is softmax cross-entropy over a bias-free
Linear(128, 10) classifier. SGD runs with learning rate 0.05, momentum 0.9 and weight decay 5e-4 on batches
of 256 shuffled rows, the last one partial.
Pixels are scaled to [0, 1]. Prints one line per epoch with its wall time in seconds.

Usage: /usr/bin/python3 benchmarks/metric/torch_epoch.py [--threads N] [--epochs N] [--data DIR]
"""
import argparse
import gzip
import time

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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    images = read_idx(f"{args.data}/train-images-idx3-ubyte.gz", 0x803)
    labels = read_idx(f"{args.data}/train-labels-idx1-ubyte.gz", 0x801)
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))

    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 128))
    classifier = torch.nn.Linear(128, 10, bias=False)
    parameters = list(model.parameters()) + list(classifier.parameters())
    optimizer = torch.optim.SGD(parameters, lr=0.05, momentum=0.9, weight_decay=5e-4)
    loss_function = torch.nn.CrossEntropyLoss()
    batch = 256

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, rows {len(x)}, batch {batch}")
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(x))
        total = 0.0
        batches = 0
        for first in range(0, len(x), batch):
            index = order[first:first + batch]
            optimizer.zero_grad()
            loss = loss_function(classifier(model(x[index])), y[index])
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        seconds = time.perf_counter() - start
        print(f"torch epoch {epoch}: {seconds:.3f} s, mean loss {total / batches:.4f}")


if __name__ == "__main__":
    main()
