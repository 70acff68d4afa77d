using MLNetRetrieval.Images.Decoding;
using MLNetRetrieval.Images.Preprocessing;

namespace MLNetRetrieval.Images;

/// <summary>Settings of an <see cref="ImageEmbedder"/>.</summary>
public sealed class ImageEmbedderOptions
{
    /// <summary>Path of the ONNX model; null for ResNet18 from the Microsoft.ML.DnnImageFeaturizer.ResNet18 package.</summary>
    public string? ModelPath { get; set; }

    /// <summary>The model as bytes, used instead of <see cref="ModelPath"/> when set (a model loaded from a zip).</summary>
    public byte[]? ModelBytes { get; set; }

    /// <summary>Name of the image input; null to take the model's only input.</summary>
    public string? InputName { get; set; }

    /// <summary>Name of the embedding output; null to take the model's only (or first) output.</summary>
    public string? OutputName { get; set; }

    /// <summary>Preprocessing; null for the default model's own preprocessing.</summary>
    public ImagePreprocessing? Preprocessing { get; set; }

    /// <summary>Scale each embedding to unit L2 norm.</summary>
    public bool Normalize { get; set; }

    /// <summary>Average the embedding of the image and that of its mirror image.</summary>
    public bool FlipAverage { get; set; }

    /// <summary>Images per inference call when the model has a dynamic batch dimension.</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>Total threads for decoding and inference; 0 for the machine's processor count.</summary>
    public int Threads { get; set; }

    /// <summary>Run on CUDA through the GPU package when present, falling back to CPU with a warning.</summary>
    public bool UseGpu { get; set; }

    /// <summary>Decoder limits.</summary>
    public ImageDecoderOptions Decoder { get; set; } = new();

    // Added by the ML.NET transform work as agreed with the embedder owner; the GPU package builds on it.
    /// <summary>Called on the ONNX Runtime session options before the session is created, for example to append an execution provider; not saved in a model zip.</summary>
    public Action<Microsoft.ML.OnnxRuntime.SessionOptions>? ConfigureSession { get; set; }
}
