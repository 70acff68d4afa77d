#!/usr/bin/python3
"""Compute reference values of the metric-learning losses with PyTorch autograd, for the C# tests.

For each case (a loss, its settings and a small fixed batch) the script computes, in float64, the loss
value and its gradients with respect to the embeddings and to the loss's class weights (and bias). It
writes inputs and outputs to one JSON file, which the C# tests read; they never run Python.

Inputs are drawn from seeded torch generators in float32 and then widened to float64, so every input is
exactly representable in single precision and the C# float path sees the same numbers.

The formulas follow the XML docs of the C# classes in src/MLNetRetrieval/MetricLearning/Losses/ and are
written here independently, with autograd for the gradients:
  contrastive   mean over unordered pairs of D2 (same class) or max(0, margin - D2) (different class)
  triplet       max(0, D2(a,p) - D2(a,n) + margin); batch-all mean over positive terms, batch-hard mean
                over anchors with a positive and a negative, semi-hard mean over pairs with a negative in
                (D2(a,p), D2(a,p) + margin)
  center        mean softmax cross-entropy of x W^T + b, plus (lambda / 2) * mean ||x_i - c_{y_i}||^2;
                the centre update c_j -= alpha * sum_{y_i = j} (c_j - x_i) / (1 + n_j) is written too
  angular       cosines of normalised x and W clamped to [-1 + 2^-23, 1 - 2^-23]; SphereFace keeps
                ||x|| as the logit scale, the others use a fixed scale s

Requires PyTorch 1.13 (Debian python3-torch). Regenerate with:
  /usr/bin/python3 tests/reference/metric_losses.py \
      --output tests/MLNetRetrieval.Tests/TestData/metric_losses_reference.json
"""

import argparse
import json
import math
import sys

import torch
import torch.nn.functional as F

COSINE_CLAMP_EPSILON = 2.0 ** -23
NORM_FLOOR = 1e-12


def float32_normal(seed, shape, scale=1.0):
    """Draw N(0, scale^2) values in float32 from a seeded generator and return them as float64."""
    generator = torch.Generator().manual_seed(seed)
    values = torch.randn(shape, generator=generator, dtype=torch.float32) * scale
    return values.to(torch.float64)


def squared_distances(x):
    difference = x[:, None, :] - x[None, :, :]
    return (difference * difference).sum(-1)


def contrastive_loss(x, labels, config, _params):
    n = x.shape[0]
    distances = squared_distances(x)
    rows, columns = torch.triu_indices(n, n, offset=1)
    pair_distances = distances[rows, columns]
    same = labels[rows] == labels[columns]
    terms = torch.where(same, pair_distances, torch.clamp(config["margin"] - pair_distances, min=0.0))
    return terms.mean()


def batch_all_terms(distances, positive_mask, negative_mask, margin):
    """Return every triplet term D2(a,p) - D2(a,n) + margin that is positive."""
    n = distances.shape[0]
    terms = []
    for a in range(n):
        for p in range(n):
            if not positive_mask[a, p]:
                continue
            for q in range(n):
                if not negative_mask[a, q]:
                    continue
                term = distances[a, p] - distances[a, q] + margin
                if term.item() > 0:
                    terms.append(term)
    return terms


def batch_hard_terms(distances, positive_mask, negative_mask, margin):
    """Return, per anchor with a positive and a negative, the hinge of its hardest triplet."""
    n = distances.shape[0]
    terms = []
    for a in range(n):
        positives = [p for p in range(n) if positive_mask[a, p]]
        negatives = [q for q in range(n) if negative_mask[a, q]]
        if not positives or not negatives:
            continue

        hardest_positive = max(positives, key=lambda p: distances[a, p].item())
        hardest_negative = min(negatives, key=lambda q: distances[a, q].item())
        terms.append(torch.clamp(distances[a, hardest_positive] - distances[a, hardest_negative] + margin, min=0.0))
    return terms


def semi_hard_terms(distances, positive_mask, negative_mask, margin):
    """Return, per anchor-positive pair with a negative in (D2(a,p), D2(a,p) + margin), the term of the nearest one."""
    n = distances.shape[0]
    terms = []
    for a in range(n):
        for p in range(n):
            if not positive_mask[a, p]:
                continue

            positive = distances[a, p].item()
            candidates = [q for q in range(n)
                          if negative_mask[a, q] and positive < distances[a, q].item() < positive + margin]
            if not candidates:
                continue

            chosen = min(candidates, key=lambda q: distances[a, q].item())
            terms.append(distances[a, p] - distances[a, chosen] + margin)
    return terms


TRIPLET_MINERS = {"BatchAll": batch_all_terms, "BatchHard": batch_hard_terms, "SemiHard": semi_hard_terms}


def triplet_loss(x, labels, config, _params):
    n = x.shape[0]
    distances = squared_distances(x)
    same = labels[:, None] == labels[None, :]
    positive_mask = same & ~torch.eye(n, dtype=torch.bool)
    negative_mask = ~same

    terms = TRIPLET_MINERS[config["mining"]](distances, positive_mask, negative_mask, config["margin"])
    if not terms:
        return (x * 0.0).sum()
    return torch.stack(terms).mean()


def center_loss(x, labels, config, params):
    logits = x @ params["weight"].T + params["bias"][:, 0]
    cross_entropy = F.cross_entropy(logits, labels)
    centers = torch.tensor(config["centers"], dtype=torch.float64).reshape(params["weight"].shape)
    difference = x - centers[labels]
    return cross_entropy + 0.5 * config["center_weight"] * (difference * difference).sum(1).mean()


def updated_centers(x, labels, config, classes):
    """Apply the centre update once, with the batch embeddings x (no gradient)."""
    centers = torch.tensor(config["centers"], dtype=torch.float64).reshape(classes, -1).clone()
    for j in range(classes):
        members = labels == j
        count = int(members.sum())
        if count == 0:
            continue
        step = (centers[j] - x[members]).sum(0) / (1 + count)
        centers[j] = centers[j] - config["center_rate"] * step
    return centers


def clamped_cosines(x, weight):
    unit_x = F.normalize(x, dim=1, eps=NORM_FLOOR)
    unit_w = F.normalize(weight, dim=1, eps=NORM_FLOOR)
    cosines = unit_x @ unit_w.T
    return torch.clamp(cosines, -1.0 + COSINE_CLAMP_EPSILON, 1.0 - COSINE_CLAMP_EPSILON)


def margin_softmax(x, labels, weight, scale, target_function):
    """Cross-entropy of scale * cos, with the target column replaced by scale * target_function(cos_y)."""
    cosines = clamped_cosines(x, weight)
    one_hot = F.one_hot(labels, cosines.shape[1]).to(torch.float64)
    target_cosines = cosines.gather(1, labels[:, None])
    target_values = target_function(target_cosines) if target_function else target_cosines
    adjusted = cosines * (1 - one_hot) + target_values * one_hot
    return F.cross_entropy(scale * adjusted, labels)


def normalized_softmax_loss(x, labels, config, params):
    if config["normalize"]:
        return margin_softmax(x, labels, params["weight"], config["scale"], None)
    logits = x @ params["weight"].T + params["bias"][:, 0]
    return F.cross_entropy(logits, labels)


def cosface_loss(x, labels, config, params):
    return margin_softmax(x, labels, params["weight"], config["scale"], lambda c: c - config["margin"])


def arcface_loss(x, labels, config, params):
    m = config["margin"]

    def target(c):
        with_margin = c * math.cos(m) - torch.sqrt(1 - c * c) * math.sin(m)
        if config["easy_margin"]:
            return torch.where(c > 0, with_margin, c)
        return torch.where(c > math.cos(math.pi - m), with_margin, c - m * math.sin(m))

    return margin_softmax(x, labels, params["weight"], config["scale"], target)


def sphereface_lambda(config):
    value = config["lambda_base"] * (1 + config["lambda_gamma"] * config["step"]) ** (-config["lambda_power"])
    return max(config["lambda_min"], value)


def sphereface_loss(x, labels, config, params):
    m = config["margin"]
    annealing = sphereface_lambda(config)
    cosines = clamped_cosines(x, params["weight"])
    target_cosines = cosines.gather(1, labels[:, None])
    theta = torch.acos(target_cosines)
    k = torch.clamp(torch.floor(m * theta.detach() / math.pi), max=m - 1)
    psi = (-1.0) ** k * torch.cos(m * theta) - 2 * k
    target_values = (annealing * target_cosines + psi) / (1 + annealing)
    one_hot = F.one_hot(labels, cosines.shape[1]).to(torch.float64)
    adjusted = cosines * (1 - one_hot) + target_values * one_hot
    norms = x.norm(dim=1, keepdim=True)
    return F.cross_entropy(norms * adjusted, labels)


LOSSES = {
    "contrastive": (contrastive_loss, []),
    "triplet": (triplet_loss, []),
    "center": (center_loss, ["weight", "bias"]),
    "normalized_softmax": (normalized_softmax_loss, None),
    "cosface": (cosface_loss, ["weight"]),
    "arcface": (arcface_loss, ["weight"]),
    "sphereface": (sphereface_loss, ["weight"]),
}


def parameter_names(loss, config):
    names = LOSSES[loss][1]
    if names is None:
        return ["weight"] if config["normalize"] else ["weight", "bias"]
    return names


def run_case(name, loss, config, embeddings, labels, classes, seed):
    """Evaluate one case and return its JSON record."""
    rows, dimension = embeddings.shape
    names = parameter_names(loss, config)
    params = {}
    if "weight" in names:
        params["weight"] = float32_normal(seed + 1, (classes, dimension), 0.5)
    if "bias" in names:
        params["bias"] = float32_normal(seed + 2, (classes, 1), 0.1)
    if config.get("weight_rows"):
        for row, values in config.pop("weight_rows").items():
            params["weight"][int(row)] = torch.tensor(values, dtype=torch.float64)

    x = embeddings.clone().requires_grad_(True)
    for value in params.values():
        value.requires_grad_(True)
    label_tensor = torch.tensor(labels, dtype=torch.long)
    value = LOSSES[loss][0](x, label_tensor, config, params)
    value.backward()

    record = {
        "name": name,
        "loss": loss,
        "config": config,
        "rows": rows,
        "dimension": dimension,
        "classes": classes,
        "embeddings": x.detach().flatten().tolist(),
        "labels": labels,
        "parameter_names": names,
        "parameters": [params[n].detach().flatten().tolist() for n in names],
        "loss_value": value.item(),
        "embedding_gradient": x.grad.flatten().tolist(),
        "parameter_gradients": [params[n].grad.flatten().tolist() for n in names],
    }
    if loss == "center":
        record["updated_centers"] = updated_centers(x.detach(), label_tensor, config, classes).flatten().tolist()
    if loss == "sphereface":
        record["lambda"] = sphereface_lambda(config)
    for number in [record["loss_value"]] + record["embedding_gradient"]:
        if not math.isfinite(number):
            raise ValueError(f"case {name}: non-finite reference value")
    return record


def build_cases():
    cases = []
    labels9 = [0, 1, 2, 0, 1, 2, 0, 1, 2]
    labels8 = [0, 1, 2, 3, 0, 1, 2, 0]

    x = float32_normal(11, (8, 6), 0.4)
    cases.append(run_case("contrastive-mixed", "contrastive", {"margin": 1.0}, x, [0, 1, 2, 0, 1, 2, 0, 1], 3, 11))
    cases.append(run_case("contrastive-single-class", "contrastive", {"margin": 1.0}, float32_normal(12, (5, 6), 0.4), [0] * 5, 3, 12))

    x = float32_normal(21, (9, 5), 0.5)
    for mining in ("BatchAll", "BatchHard", "SemiHard"):
        cases.append(run_case(f"triplet-{mining}", "triplet", {"mining": mining, "margin": 0.5}, x, labels9, 3, 21))

    # Three tight clusters far apart: every triplet already satisfies the margin.
    centers = torch.tensor([[3.0, 0, 0, 0], [0, 3.0, 0, 0], [0, 0, 3.0, 0]], dtype=torch.float64)
    separated = centers[torch.tensor(labels9[:6])] + float32_normal(22, (6, 4), 0.05)
    separated = separated.to(torch.float32).to(torch.float64)
    for mining in ("BatchAll", "BatchHard", "SemiHard"):
        cases.append(run_case(f"triplet-{mining}-none-valid", "triplet", {"mining": mining, "margin": 0.5},
                              separated, labels9[:6], 3, 22))
    cases.append(run_case("triplet-BatchHard-single-class", "triplet", {"mining": "BatchHard", "margin": 0.5},
                          float32_normal(23, (5, 4), 0.5), [1] * 5, 3, 23))
    cases.append(run_case("triplet-BatchAll-no-positive", "triplet", {"mining": "BatchAll", "margin": 0.5},
                          float32_normal(24, (3, 4), 0.5), [0, 1, 2], 3, 24))

    x = float32_normal(31, (8, 5), 0.7)
    centers = float32_normal(32, (4, 5), 0.5)
    config = {"center_weight": 0.1, "center_rate": 0.5, "centers": centers.flatten().tolist()}
    cases.append(run_case("center-all-classes", "center", config, x, labels8, 4, 31))
    config = {"center_weight": 0.1, "center_rate": 0.5, "centers": centers.flatten().tolist()}
    cases.append(run_case("center-absent-class", "center", config, x, [0, 1, 2, 0, 1, 2, 0, 1], 4, 31))

    x = float32_normal(41, (8, 6), 1.0)
    cases.append(run_case("softmax-normalized", "normalized_softmax", {"scale": 16.0, "normalize": True}, x, labels8, 4, 41))
    cases.append(run_case("softmax-linear", "normalized_softmax", {"scale": 16.0, "normalize": False}, x, labels8, 4, 41))
    cases.append(run_case("cosface", "cosface", {"scale": 10.0, "margin": 0.35}, x, labels8, 4, 41))
    cases.append(run_case("arcface", "arcface", {"scale": 10.0, "margin": 0.5, "easy_margin": False}, x, labels8, 4, 41))
    cases.append(run_case("arcface-easy-margin", "arcface", {"scale": 10.0, "margin": 0.5, "easy_margin": True}, x, labels8, 4, 41))

    # Row 0 points almost opposite its class weight, so theta_y + m > pi and the linear fallback applies;
    # row 1 is its class weight times 2, so its cosine rounds to 1 (or just above) and hits the clamp.
    weight = float32_normal(42, (4, 6), 0.5)
    edge = float32_normal(43, (8, 6), 1.0)
    edge[0] = (-weight[0] + float32_normal(44, (6,), 0.05)).to(torch.float32).to(torch.float64)
    edge[1] = 2 * weight[1]
    edge_config = {"scale": 10.0, "margin": 0.5, "easy_margin": False, "weight_rows": {str(j): weight[j].tolist() for j in range(4)}}
    cases.append(run_case("arcface-beyond-pi-and-cos-one", "arcface", edge_config, edge, labels8, 4, 45))
    edge_config = {"scale": 10.0, "margin": 0.35, "weight_rows": {str(j): weight[j].tolist() for j in range(4)}}
    cases.append(run_case("cosface-cos-one", "cosface", edge_config, edge, labels8, 4, 45))

    sphere = {"margin": 4, "lambda_base": 1000.0, "lambda_gamma": 0.12, "lambda_power": 1.0, "lambda_min": 5.0}
    cases.append(run_case("sphereface-m4-step0", "sphereface", dict(sphere, step=0), x, labels8, 4, 41))
    cases.append(run_case("sphereface-m4-lambda-min", "sphereface", dict(sphere, step=100000), x, labels8, 4, 41))
    pure = {"margin": 3, "lambda_base": 0.0, "lambda_gamma": 0.0, "lambda_power": 1.0, "lambda_min": 0.0, "step": 0}
    cases.append(run_case("sphereface-m3-pure", "sphereface", pure, x, labels8, 4, 41))
    edge_config = dict(sphere, step=100000, weight_rows={str(j): weight[j].tolist() for j in range(4)})
    cases.append(run_case("sphereface-m4-edges", "sphereface", edge_config, edge, labels8, 4, 45))
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", required=True, help="path of the JSON file to write")
    args = parser.parse_args()
    torch.set_default_dtype(torch.float64)
    document = {
        "generator": "tests/reference/metric_losses.py",
        "torch_version": torch.__version__,
        "cosine_clamp_epsilon": COSINE_CLAMP_EPSILON,
        "cases": build_cases(),
    }
    with open(args.output, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=1)
        stream.write("\n")
    print(f"wrote {len(document['cases'])} cases to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
