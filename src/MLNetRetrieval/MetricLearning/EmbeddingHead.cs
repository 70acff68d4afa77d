namespace MLNetRetrieval.MetricLearning;

/// <summary>
/// A trained projection from input features to embeddings (a linear layer or an MLP, optionally
/// L2-normalised). Inference only; thread-safe.
/// </summary>
public sealed class EmbeddingHead
{
    private EmbeddingHead() => throw new NotImplementedException();

    /// <summary>Length of an input feature vector.</summary>
    public int InputDimension => throw new NotImplementedException();

    /// <summary>Length of an output embedding.</summary>
    public int OutputDimension => throw new NotImplementedException();

    /// <summary>Maps a batch of rows.</summary>
    /// <param name="inputs">Row-major, count by <see cref="InputDimension"/>.</param>
    /// <param name="outputs">Row-major, count by <see cref="OutputDimension"/>.</param>
    public void Transform(ReadOnlySpan<float> inputs, Span<float> outputs) => throw new NotImplementedException();

    /// <summary>Writes the head in its versioned binary format.</summary>
    /// <param name="stream">Destination.</param>
    public void Save(Stream stream) => throw new NotImplementedException();

    /// <summary>Reads a head written by <see cref="Save"/>, validating every field.</summary>
    /// <param name="stream">Source.</param>
    /// <returns>The head.</returns>
    public static EmbeddingHead Load(Stream stream) => throw new NotImplementedException();
}
