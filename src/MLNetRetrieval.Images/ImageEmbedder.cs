using MLNetRetrieval.Images.Decoding;

namespace MLNetRetrieval.Images;

/// <summary>Progress of a batch embedding run.</summary>
/// <param name="Done">Images finished so far, embedded or failed.</param>
/// <param name="Total">Images in the run.</param>
/// <param name="Failed">Images that failed so far.</param>
public readonly record struct EmbeddingProgress(int Done, int Total, int Failed);

/// <summary>Embeddings of a list of images: one row per image that decoded, and the failures.</summary>
public sealed class EmbeddingBatchResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="dimension">Length of one embedding.</param>
    /// <param name="vectors">Row-major embeddings of the images that succeeded, in input order.</param>
    /// <param name="sourceIndices">For each row, the index of its image in the input list.</param>
    /// <param name="failures">The images that failed, in input order.</param>
    public EmbeddingBatchResult(int dimension, float[] vectors, int[] sourceIndices, IReadOnlyList<ImageFailure> failures)
    {
        Dimension = dimension;
        Vectors = vectors;
        SourceIndices = sourceIndices;
        Failures = failures;
    }

    /// <summary>Length of one embedding.</summary>
    public int Dimension { get; }

    /// <summary>Row-major embeddings, <see cref="SourceIndices"/>.Length rows.</summary>
    public float[] Vectors { get; }

    /// <summary>Input index of each row.</summary>
    public int[] SourceIndices { get; }

    /// <summary>Images that could not be embedded, with reasons.</summary>
    public IReadOnlyList<ImageFailure> Failures { get; }
}

/// <summary>
/// Embeds images with an ONNX model: decode, preprocess, infer, optionally flip-average and normalize.
/// Decoding of later images overlaps inference of earlier ones. Thread-safe for concurrent calls.
/// </summary>
public sealed class ImageEmbedder : IDisposable
{
    /// <summary>Loads the model and checks its input and output against the options.</summary>
    /// <param name="options">Settings; null for ResNet18 with its own preprocessing.</param>
    public ImageEmbedder(ImageEmbedderOptions? options = null) => throw new NotImplementedException();

    /// <summary>Length of one embedding.</summary>
    public int Dimension => throw new NotImplementedException();

    /// <summary>The model bytes, for saving with a pipeline.</summary>
    public ReadOnlyMemory<byte> ModelBytes => throw new NotImplementedException();

    /// <summary>Embeds files, reporting failures instead of throwing for bad images.</summary>
    /// <param name="paths">Image files.</param>
    /// <param name="progress">Receives progress; may be null.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The embeddings and the failures.</returns>
    public EmbeddingBatchResult EmbedFiles(IReadOnlyList<string> paths, IProgress<EmbeddingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary>Embeds one decoded image.</summary>
    /// <param name="image">The image.</param>
    /// <param name="destination"><see cref="Dimension"/> floats.</param>
    public void Embed(DecodedImage image, Span<float> destination) => throw new NotImplementedException();

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
