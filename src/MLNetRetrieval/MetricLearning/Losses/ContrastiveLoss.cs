using System.Numerics;

namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>
/// Contrastive loss over every pair of the batch: same-class pairs are pulled together and
/// different-class pairs pushed apart until their squared distance reaches the margin α.
/// </summary>
/// <remarks>
/// <para>
/// With D²_ij = ‖x_i − x_j‖² and P = B (B − 1) / 2 unordered pairs in a batch of B rows:
/// </para>
/// <para>
/// L = (1 / P) Σ_{i&lt;j} [ y_i = y_j ] D²_ij + [ y_i ≠ y_j ] max(0, α − D²_ij).
/// </para>
/// <para>
/// The mean runs over all pairs, including the pairs whose term is zero, so the value does not jump when a
/// pair crosses the margin. The loss follows Hadsell, Chopra and LeCun, "Dimensionality Reduction by
/// Learning an Invariant Mapping" (CVPR 2006), but puts the margin on the squared distance and drops
/// their factor 1/2, so no square root (with its infinite slope at D = 0) enters the gradient.
/// </para>
/// <para>
/// The default α = 1 suits unit-length embeddings, where D² lies in [0, 4] and D² = 2 means orthogonal
/// vectors. For embeddings of free length, scale α with their typical squared distance.
/// </para>
/// </remarks>
public sealed class ContrastiveLoss : MetricLoss, IDoublePrecisionLoss
{
    /// <summary>Default margin α on the squared distance.</summary>
    public const double DefaultMargin = 1.0;

    private readonly bool _normalizeEmbeddings;
    private int _dimension;
    private int _classCount;

    /// <summary>Creates a contrastive loss.</summary>
    /// <param name="margin">Margin α on the squared distance of different-class pairs, in (0, 1e6].</param>
    /// <param name="normalizeEmbeddings">Whether the head should L2-normalise its output (the value of <see cref="RequiresNormalizedEmbeddings"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> is not in (0, 1e6].</exception>
    public ContrastiveLoss(double margin = DefaultMargin, bool normalizeEmbeddings = true)
    {
        LossMath.CheckAbove(margin, 0, 1e6, nameof(margin));
        Margin = margin;
        _normalizeEmbeddings = normalizeEmbeddings;
    }

    /// <summary>Margin α on the squared distance of different-class pairs.</summary>
    public double Margin { get; }

    /// <inheritdoc/>
    public override bool RequiresNormalizedEmbeddings => _normalizeEmbeddings;

    /// <inheritdoc/>
    public override bool PrefersClassBalancedBatches => true;

    /// <inheritdoc/>
    public override void Initialize(int embeddingDimension, int classCount, Random random)
    {
        LossMath.CheckInitialize(embeddingDimension, classCount, random);
        _dimension = embeddingDimension;
        _classCount = classCount;
    }

    /// <inheritdoc/>
    public override float Compute(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> labels, Span<float> embeddingGradient) =>
        Evaluate(embeddings, labels, embeddingGradient);

    double IDoublePrecisionLoss.ComputeDouble(ReadOnlySpan<double> embeddings, ReadOnlySpan<int> labels, IReadOnlyList<double[]> parameterValues,
        Span<double> embeddingGradient, IReadOnlyList<double[]> parameterGradients) =>
        Evaluate(embeddings, labels, embeddingGradient);

    private T Evaluate<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> labels, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = LossMath.CheckBatch(x, labels, gradient, _dimension, _classCount, nameof(ContrastiveLoss));
        gradient.Clear();
        if (n < 2)
        {
            return T.Zero;
        }

        int d = _dimension;
        T[] distanceBuffer = LossMath.RentCleared<T>(checked(n * n));
        T[] weightBuffer = LossMath.RentCleared<T>(n * n);
        try
        {
            Span<T> distances = distanceBuffer.AsSpan(0, n * n);
            Span<T> weights = weightBuffer.AsSpan(0, n * n);
            LossMath.SquaredDistances(x, n, d, distances);

            T margin = T.CreateTruncating(Margin);
            T inversePairs = T.One / T.CreateTruncating((double)n * (n - 1) / 2);
            T total = T.Zero;
            for (int i = 0; i < n; i++)
            {
                for (int j = i + 1; j < n; j++)
                {
                    T squared = distances[(i * n) + j];
                    T slope;
                    if (labels[i] == labels[j])
                    {
                        total += squared;
                        slope = inversePairs;
                    }
                    else if (margin - squared > T.Zero)
                    {
                        total += margin - squared;
                        slope = -inversePairs;
                    }
                    else
                    {
                        continue;
                    }

                    weights[(i * n) + j] = slope;
                    weights[(j * n) + i] = slope;
                }
            }

            LossMath.DistanceGradient(x, n, d, weights, gradient);
            return total * inversePairs;
        }
        finally
        {
            LossMath.Return(distanceBuffer);
            LossMath.Return(weightBuffer);
        }
    }
}
