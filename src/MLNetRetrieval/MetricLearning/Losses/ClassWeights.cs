namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>
/// The class weight matrix (C × d) and optional bias (C × 1) of a classification-style loss, with the glue
/// from <see cref="MetricLoss.Compute"/> and <see cref="IDoublePrecisionLoss.ComputeDouble"/> to <see cref="ClassifierMath"/>.
/// </summary>
internal sealed class ClassWeights
{
    private readonly string _lossName;
    private readonly bool _hasBias;
    private TrainableParameter[] _parameters = [];

    public ClassWeights(string lossName, bool hasBias)
    {
        _lossName = lossName;
        _hasBias = hasBias;
    }

    public int Dimension { get; private set; }

    public int ClassCount { get; private set; }

    /// <summary>Weight (name "loss.classWeight"), then bias ("loss.classBias") when there is one; empty before initialization.</summary>
    public IReadOnlyList<TrainableParameter> Parameters => _parameters;

    /// <summary>
    /// Creates the parameters and draws each value from U(−1/√d, 1/√d), the default of a PyTorch 1.13
    /// <c>nn.Linear</c> layer with d inputs.
    /// </summary>
    public void Initialize(int embeddingDimension, int classCount, Random random)
    {
        LossMath.CheckInitialize(embeddingDimension, classCount, random);
        var weight = new TrainableParameter("loss.classWeight", classCount, embeddingDimension);
        float bound = 1f / MathF.Sqrt(embeddingDimension);
        LossMath.FillUniform(weight.Values, bound, random);
        if (_hasBias)
        {
            var bias = new TrainableParameter("loss.classBias", classCount, 1, applyWeightDecay: false);
            LossMath.FillUniform(bias.Values, bound, random);
            _parameters = [weight, bias];
        }
        else
        {
            _parameters = [weight];
        }

        Dimension = embeddingDimension;
        ClassCount = classCount;
    }

    public float Compute(LogitForm form, double scale, TargetLogitFunction? target,
        ReadOnlySpan<float> embeddings, ReadOnlySpan<int> labels, Span<float> embeddingGradient)
    {
        LossMath.CheckBatch(embeddings, labels, embeddingGradient, Dimension, ClassCount, _lossName);
        TrainableParameter weight = _parameters[0];
        Span<float> bias = _hasBias ? _parameters[1].Values : [];
        Span<float> biasGradient = _hasBias ? _parameters[1].Gradient : [];
        return ClassifierMath.Evaluate<float>(form, scale, target, embeddings, labels, Dimension, ClassCount,
            weight.Values, bias, embeddingGradient, weight.Gradient, biasGradient);
    }

    public double ComputeDouble(LogitForm form, double scale, TargetLogitFunction? target,
        ReadOnlySpan<double> embeddings, ReadOnlySpan<int> labels, IReadOnlyList<double[]> parameterValues,
        Span<double> embeddingGradient, IReadOnlyList<double[]> parameterGradients)
    {
        LossMath.CheckBatch(embeddings, labels, embeddingGradient, Dimension, ClassCount, _lossName);
        if (parameterValues.Count != _parameters.Length || parameterGradients.Count != _parameters.Length)
        {
            throw new ArgumentException($"{_lossName} has {_parameters.Length} parameters, got {parameterValues.Count} value and {parameterGradients.Count} gradient buffers.", nameof(parameterValues));
        }

        Span<double> bias = _hasBias ? parameterValues[1] : [];
        Span<double> biasGradient = _hasBias ? parameterGradients[1] : [];
        return ClassifierMath.Evaluate<double>(form, scale, target, embeddings, labels, Dimension, ClassCount,
            parameterValues[0], bias, embeddingGradient, parameterGradients[0], biasGradient);
    }
}
