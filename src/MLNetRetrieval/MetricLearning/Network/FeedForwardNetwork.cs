namespace MLNetRetrieval.MetricLearning.Network;

/// <summary>
/// A chain of layers with the buffers of one training batch: the output and the output gradient of each
/// layer, rows × that layer's output dimension.
/// </summary>
internal sealed class FeedForwardNetwork
{
    private readonly Layer[] _layers;
    private readonly TrainableParameter[] _parameters;
    private float[][] _outputs;
    private float[][] _gradients;
    private int _capacityRows;

    /// <summary>Chains <paramref name="layers"/>, which must agree on their dimensions.</summary>
    public FeedForwardNetwork(IReadOnlyList<Layer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("A network needs at least one layer.", nameof(layers));
        }

        for (int i = 1; i < layers.Count; i++)
        {
            if (layers[i].InputDimension != layers[i - 1].OutputDimension)
            {
                throw new ArgumentException(
                    $"Layer {i} ({layers[i].Kind}) takes {layers[i].InputDimension} inputs but layer {i - 1} ({layers[i - 1].Kind}) gives {layers[i - 1].OutputDimension}.",
                    nameof(layers));
            }
        }

        _layers = [.. layers];
        _parameters = [.. layers.SelectMany(layer => layer.Parameters)];
        _outputs = [];
        _gradients = [];
    }

    /// <summary>The layers, first to last.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Every trainable parameter, in layer order.</summary>
    public IReadOnlyList<TrainableParameter> Parameters => _parameters;

    /// <summary>Columns of an input row.</summary>
    public int InputDimension => _layers[0].InputDimension;

    /// <summary>Columns of an output row.</summary>
    public int OutputDimension => _layers[^1].OutputDimension;

    /// <summary>
    /// Builds the MLP of <paramref name="options"/>: per hidden size h a Linear(h, He initialization), an
    /// optional BatchNorm, a ReLU and an optional Dropout; then a Linear to the embedding dimension
    /// (Xavier initialization) and, when <paramref name="normalizeOutput"/> is set, an L2Normalize.
    /// </summary>
    public static FeedForwardNetwork Build(int inputDimension, MetricTrainerOptions options, bool normalizeOutput, Random random)
    {
        var layers = new List<Layer>();
        int width = inputDimension;
        for (int i = 0; i < options.HiddenLayers.Count; i++)
        {
            int hidden = options.HiddenLayers[i];
            layers.Add(new LinearLayer(width, hidden, WeightInitialization.He, random, $"hidden{i}"));
            if (options.BatchNormalization)
            {
                layers.Add(new BatchNormLayer(hidden, options.BatchNormMomentum, options.BatchNormEpsilon, $"batchNorm{i}"));
            }

            layers.Add(new ReLULayer(hidden));
            if (options.DropoutRate > 0f)
            {
                layers.Add(new DropoutLayer(hidden, options.DropoutRate, random.Next()));
            }

            width = hidden;
        }

        layers.Add(new LinearLayer(width, options.EmbeddingDimension, WeightInitialization.Xavier, random, "output"));
        if (normalizeOutput)
        {
            layers.Add(new L2NormalizeLayer(options.EmbeddingDimension));
        }

        return new FeedForwardNetwork(layers);
    }

    /// <summary>
    /// Runs a training-mode forward pass on <paramref name="input"/> (rows × InputDimension) and returns the
    /// output rows, which stay valid until the next call. Pass the same batch to <see cref="Backward"/>.
    /// </summary>
    public ReadOnlySpan<float> ForwardTraining(ReadOnlySpan<float> input, int rows, int threads)
    {
        EnsureCapacity(rows);
        ReadOnlySpan<float> current = input.Slice(0, rows * InputDimension);
        for (int i = 0; i < _layers.Length; i++)
        {
            Span<float> output = _outputs[i].AsSpan(0, rows * _layers[i].OutputDimension);
            _layers[i].Forward(current, output, rows, training: true, threads);
            current = output;
        }

        return current;
    }

    /// <summary>
    /// Adds the parameter gradients of the last <see cref="ForwardTraining"/> batch, given d loss / d output.
    /// </summary>
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, int rows, int threads)
    {
        ReadOnlySpan<float> gradient = outputGradient.Slice(0, rows * OutputDimension);
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            Layer layer = _layers[i];
            ReadOnlySpan<float> layerInput = i == 0 ? input.Slice(0, rows * InputDimension) : _outputs[i - 1].AsSpan(0, rows * layer.InputDimension);
            ReadOnlySpan<float> layerOutput = _outputs[i].AsSpan(0, rows * layer.OutputDimension);
            Span<float> inputGradient = i == 0 ? Span<float>.Empty : _gradients[i - 1].AsSpan(0, rows * layer.InputDimension);
            layer.Backward(layerInput, layerOutput, gradient, inputGradient, rows, threads);
            gradient = inputGradient;
        }
    }

    /// <summary>
    /// Runs an inference-mode forward pass from <paramref name="input"/> (rows × InputDimension) to
    /// <paramref name="output"/> (rows × OutputDimension). Changes no state, so calls may run in parallel.
    /// </summary>
    public void Infer(ReadOnlySpan<float> input, Span<float> output, int rows, int threads)
    {
        ReadOnlySpan<float> current = input.Slice(0, rows * InputDimension);
        float[]? buffer = null;
        for (int i = 0; i < _layers.Length; i++)
        {
            Layer layer = _layers[i];
            Span<float> target;
            float[]? next = null;
            if (i == _layers.Length - 1)
            {
                target = output.Slice(0, rows * layer.OutputDimension);
            }
            else
            {
                next = new float[rows * layer.OutputDimension];
                target = next;
            }

            layer.Forward(current, target, rows, training: false, threads);
            buffer = next;
            current = buffer ?? Span<float>.Empty;
        }
    }

    /// <summary>Returns an independent copy of the weights and statistics, without training buffers.</summary>
    public FeedForwardNetwork Clone() => new(_layers.Select(layer => layer.Clone()).ToArray());

    private void EnsureCapacity(int rows)
    {
        if (rows <= _capacityRows)
        {
            return;
        }

        _outputs = _layers.Select(layer => new float[checked(rows * layer.OutputDimension)]).ToArray();
        _gradients = _layers.Select(layer => new float[checked(rows * layer.OutputDimension)]).ToArray();
        _capacityRows = rows;
    }
}
