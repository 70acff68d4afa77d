namespace MLNetRetrieval.MetricLearning.Network;

/// <summary>Kind of a layer, stored as one byte in saved heads.</summary>
internal enum LayerKind : byte
{
    Linear = 1,
    ReLU = 2,
    BatchNorm = 3,
    Dropout = 4,
    L2Normalize = 5,
}

/// <summary>
/// One layer of a feed-forward network on row-major batches (rows × <see cref="InputDimension"/> in,
/// rows × <see cref="OutputDimension"/> out).
/// </summary>
/// <remarks>
/// A forward pass in inference mode changes no state, so one layer can serve several threads. A forward
/// pass in training mode may keep state for the following <see cref="Backward"/> call (batch statistics,
/// a dropout mask), so training runs on one thread at a time per layer.
/// </remarks>
internal abstract class Layer
{
    /// <summary>Kind written to saved heads.</summary>
    public abstract LayerKind Kind { get; }

    /// <summary>Columns of the input batch.</summary>
    public abstract int InputDimension { get; }

    /// <summary>Columns of the output batch.</summary>
    public abstract int OutputDimension { get; }

    /// <summary>Weights the optimizer updates; empty for layers without weights.</summary>
    public virtual IReadOnlyList<TrainableParameter> Parameters => Array.Empty<TrainableParameter>();

    /// <summary>Computes the output of a batch.</summary>
    /// <param name="input">rows × InputDimension.</param>
    /// <param name="output">rows × OutputDimension.</param>
    /// <param name="rows">Rows in the batch.</param>
    /// <param name="training">Training mode (batch statistics, dropout) instead of inference mode.</param>
    /// <param name="threads">Threads for matrix products.</param>
    public abstract void Forward(ReadOnlySpan<float> input, Span<float> output, int rows, bool training, int threads);

    /// <summary>
    /// Adds d loss / d parameters into the parameters' gradients and writes d loss / d input, after a
    /// training-mode <see cref="Forward"/> on the same batch.
    /// </summary>
    /// <param name="input">The input given to the forward pass.</param>
    /// <param name="output">The output the forward pass wrote.</param>
    /// <param name="outputGradient">d loss / d output, rows × OutputDimension.</param>
    /// <param name="inputGradient">d loss / d input, rows × InputDimension, or empty when not needed (first layer).</param>
    /// <param name="rows">Rows in the batch.</param>
    /// <param name="threads">Threads for matrix products.</param>
    public abstract void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows, int threads);

    /// <summary>Returns an independent copy with the same weights and statistics.</summary>
    public abstract Layer Clone();
}
