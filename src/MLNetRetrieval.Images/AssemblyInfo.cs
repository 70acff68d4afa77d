// The image embedding layer: decoding, preprocessing and ONNX Runtime inference.
// The code that turns these into ML.NET transforms lives in Transforms/.
