"""Prints a seeded 3x8x8 -> 5 ONNX network as Base64, for TinyModel.cs in the image transform tests.

Run with Debian's python3-torch: /usr/bin/python3 make_tiny_model.py
Input "image" is float [batch, 3, 8, 8]; output "embedding" is float [batch, 5]. Five values need
two output pieces (1 + 4), which exercises the concatenation of the saved chain.
"""
import base64
import io

import torch

torch.manual_seed(7)
model = torch.nn.Sequential(
    torch.nn.Conv2d(3, 4, kernel_size=3, padding=1),
    torch.nn.ReLU(),
    torch.nn.AdaptiveAvgPool2d(1),
    torch.nn.Flatten(),
    torch.nn.Linear(4, 5),
).eval()
buffer = io.BytesIO()
torch.onnx.export(
    model,
    torch.zeros(1, 3, 8, 8),
    buffer,
    input_names=["image"],
    output_names=["embedding"],
    dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}},
    opset_version=13,
)
print(base64.b64encode(buffer.getvalue()).decode("ascii"))
