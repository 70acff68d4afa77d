using MLNetRetrieval.MetricLearning.Network;

namespace MLNetRetrieval.MetricLearning;

/// <summary>
/// A trained projection from input features to embeddings (a linear layer or an MLP, optionally
/// L2-normalised). Inference only; thread-safe.
/// </summary>
/// <remarks>
/// Batch normalisation runs with its running statistics and dropout is left out, as in PyTorch's eval mode.
/// </remarks>
public sealed partial class EmbeddingHead
{
    /// <summary>Rows per block of <see cref="Transform(ReadOnlySpan{float}, Span{float}, int)"/>; each block is one matrix product per layer.</summary>
    private const int BlockRows = 256;

    private readonly FeedForwardNetwork _network;

    /// <summary>Wraps a trained network, leaving out its dropout layers.</summary>
    internal EmbeddingHead(FeedForwardNetwork network)
    {
        _network = new FeedForwardNetwork(network.Layers.Where(layer => layer.Kind != LayerKind.Dropout).ToArray());
    }

    /// <summary>Length of an input feature vector.</summary>
    public int InputDimension => _network.InputDimension;

    /// <summary>Length of an output embedding.</summary>
    public int OutputDimension => _network.OutputDimension;

    /// <summary>Whether every output has unit L2 norm (the last layer is an L2 normalisation).</summary>
    public bool IsNormalized => _network.Layers[^1].Kind == LayerKind.L2Normalize;

    /// <summary>The inference layers, first to last.</summary>
    internal IReadOnlyList<Layer> Layers => _network.Layers;

    /// <summary>Maps a batch of rows.</summary>
    /// <param name="inputs">Row-major, count by <see cref="InputDimension"/>.</param>
    /// <param name="outputs">Row-major, count by <see cref="OutputDimension"/>.</param>
    /// <exception cref="ArgumentException">The buffer lengths do not describe the same number of rows.</exception>
    public void Transform(ReadOnlySpan<float> inputs, Span<float> outputs) => Transform(inputs, outputs, Environment.ProcessorCount);

    /// <summary>Maps a batch of rows on up to <paramref name="threads"/> threads, in blocks of 256 rows.</summary>
    /// <param name="inputs">Row-major, count by <see cref="InputDimension"/>.</param>
    /// <param name="outputs">Row-major, count by <see cref="OutputDimension"/>.</param>
    /// <param name="threads">Maximum threads, at least 1. The outputs do not depend on it.</param>
    /// <exception cref="ArgumentException">The buffer lengths do not describe the same number of rows.</exception>
    public unsafe void Transform(ReadOnlySpan<float> inputs, Span<float> outputs, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        int d = InputDimension;
        int e = OutputDimension;
        if (inputs.Length % d != 0)
        {
            throw new ArgumentException($"inputs has {inputs.Length} values, not a multiple of InputDimension {d}.", nameof(inputs));
        }

        int rows = inputs.Length / d;
        if (outputs.Length != (long)rows * e)
        {
            throw new ArgumentException($"outputs has {outputs.Length} values but {rows} rows × OutputDimension {e} = {(long)rows * e} are needed.", nameof(outputs));
        }

        int blocks = (rows + BlockRows - 1) / BlockRows;
        if (threads == 1 || blocks == 1)
        {
            _network.Infer(inputs, outputs, rows, threads);
            return;
        }

        fixed (float* input = inputs, output = outputs)
        {
            nint inputAddress = (nint)input;
            nint outputAddress = (nint)output;
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads }, block =>
            {
                int first = block * BlockRows;
                int count = Math.Min(BlockRows, rows - first);
                var source = new ReadOnlySpan<float>((float*)inputAddress + ((long)first * d), count * d);
                var target = new Span<float>((float*)outputAddress + ((long)first * e), count * e);
                _network.Infer(source, target, count, threads: 1);
            });
        }
    }
}
