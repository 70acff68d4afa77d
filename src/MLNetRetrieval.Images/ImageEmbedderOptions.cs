using MLNetRetrieval.Images.Decoding;
using Microsoft.ML.OnnxRuntime;
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

    /// <summary>Preprocessing; null for ResNet18's own (<see cref="Onnx.DefaultImageModel.LoadResNet18Preprocessing"/>), which needs the package's model folder.</summary>
    public ImagePreprocessing? Preprocessing { get; set; }

    /// <summary>Scale each embedding to unit L2 norm.</summary>
    public bool Normalize { get; set; }

    /// <summary>Average the embedding of the image and that of its mirror image.</summary>
    public bool FlipAverage { get; set; }

    /// <summary>Images per inference call when the model has a dynamic batch dimension.</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>
    /// Total threads for decoding and inference; 0 for the machine's processor count. ONNX Runtime's intra-op pool
    /// gets all of them, and <see cref="ImageEmbedder.EmbedFiles"/> adds <see cref="DecodeThreads"/> decoders that
    /// share the cores with it (see <see cref="ImageEmbedder.DecodeThreads"/>).
    /// </summary>
    public int Threads { get; set; }

    /// <summary>Threads that decode and preprocess in <see cref="ImageEmbedder.EmbedFiles"/>; 0 for one per four threads, at least one.</summary>
    public int DecodeThreads { get; set; }

    /// <summary>
    /// Called with the ONNX Runtime session options after the thread settings are applied and before the model is
    /// loaded, for example to append an execution provider such as CUDA; null to run on the CPU.
    /// </summary>
    public Action<SessionOptions>? ConfigureSession { get; set; }

    /// <summary>Decoder limits.</summary>
    public ImageDecoderOptions Decoder { get; set; } = new();
}
