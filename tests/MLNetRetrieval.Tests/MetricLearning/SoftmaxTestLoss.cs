using System.Numerics.Tensors;
using MLNetRetrieval.MetricLearning;

namespace MLNetRetrieval.Tests.MetricLearning;

/// <summary>
/// Softmax cross-entropy over a bias-free linear classifier W (classes × e), a private stand-in for the
/// library's losses: logits = x·Wᵀ, loss = mean over rows of log Σ_c exp(logit_c) − logit_y.
/// The flags only change what the trainer reads, so the P × K sampler and the normalised head get exercised.
/// </summary>
internal sealed class SoftmaxTestLoss(bool classBalanced = false, bool normalized = false) : MetricLoss
{
    private TrainableParameter? _weight;
    private int _classes;
    private int _dimension;

    public override bool RequiresNormalizedEmbeddings => normalized;

    public override bool PrefersClassBalancedBatches => classBalanced;

    public override IReadOnlyList<TrainableParameter> Parameters => _weight is null ? [] : [_weight];

    /// <summary>Number of <see cref="OnStepCompleted"/> calls.</summary>
    public long StepsCompleted { get; private set; }

    /// <summary>Labels of every batch seen, in order.</summary>
    public List<int[]> Batches { get; } = [];

    public override void Initialize(int embeddingDimension, int classCount, Random random)
    {
        _dimension = embeddingDimension;
        _classes = classCount;
        _weight = new TrainableParameter("classifier.weight", classCount, embeddingDimension);
        for (int i = 0; i < _weight.Values.Length; i++)
        {
            _weight.Values[i] = (float)((random.NextDouble() - 0.5) * 0.2);
        }
    }

    public override float Compute(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> labels, Span<float> embeddingGradient)
    {
        TrainableParameter weight = _weight!;
        Batches.Add(labels.ToArray());
        int rows = labels.Length;
        int e = _dimension;
        var logits = new double[_classes];
        double total = 0;
        embeddingGradient.Clear();
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> x = embeddings.Slice(r * e, e);
            double max = double.NegativeInfinity;
            for (int c = 0; c < _classes; c++)
            {
                logits[c] = TensorPrimitives.Dot(x, weight.Values.AsSpan(c * e, e));
                max = Math.Max(max, logits[c]);
            }

            double sum = 0;
            for (int c = 0; c < _classes; c++)
            {
                sum += Math.Exp(logits[c] - max);
            }

            total += Math.Log(sum) + max - logits[labels[r]];
            Span<float> dx = embeddingGradient.Slice(r * e, e);
            for (int c = 0; c < _classes; c++)
            {
                float g = (float)(((Math.Exp(logits[c] - max) / sum) - (c == labels[r] ? 1 : 0)) / rows);
                TensorPrimitives.MultiplyAdd(weight.Values.AsSpan(c * e, e), g, dx, dx);
                Span<float> dw = weight.Gradient.AsSpan(c * e, e);
                TensorPrimitives.MultiplyAdd(x, g, dw, dw);
            }
        }

        return (float)(total / rows);
    }

    public override void OnStepCompleted(long step) => StepsCompleted = step;
}
