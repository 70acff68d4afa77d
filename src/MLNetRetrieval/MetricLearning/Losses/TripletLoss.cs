using System.Numerics;

namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>How <see cref="TripletLoss"/> picks triplets inside a batch.</summary>
public enum TripletMining : byte
{
    /// <summary>Every valid triplet (a, p, n); the loss is the mean over the triplets with a positive term.</summary>
    BatchAll = 0,

    /// <summary>Per anchor, the farthest positive and the nearest negative; the loss is the mean over anchors that have both.</summary>
    /// <remarks>
    /// NOTE: on L2-normalised embeddings this mode can collapse every embedding to one point, where the loss
    /// equals α and the gradient vanishes. PyTorch autograd collapses the same way on Fashion-MNIST with an MLP
    /// 784 → 512 → 128 and no batch normalisation (benchmarks/metric/torch_batch_hard.py). Batch normalisation
    /// in the hidden layer avoided the collapse there, and <see cref="BatchAll"/> and <see cref="SemiHard"/> train.
    /// </remarks>
    BatchHard = 1,

    /// <summary>
    /// Per anchor-positive pair, the nearest negative that is farther than the positive but within the margin,
    /// D²(a,p) &lt; D²(a,n) &lt; D²(a,p) + α; the loss is the mean over the pairs that have one.
    /// </summary>
    SemiHard = 2,
}

/// <summary>
/// Triplet loss with online mining: an anchor should be closer to each same-class row (positive) than to
/// each different-class row (negative) by at least the margin α in squared distance.
/// </summary>
/// <remarks>
/// <para>
/// Per triplet, ℓ(a, p, n) = max(0, D²(a,p) − D²(a,n) + α) with D² the squared L2 distance. The triplets
/// come from the batch itself (<see cref="TripletMining"/>), and the loss is a mean over the count N that
/// each mining mode defines; a batch with N = 0 gives loss 0 and a zero gradient:
/// </para>
/// <list type="bullet">
/// <item><description><see cref="TripletMining.BatchAll"/>: all triplets, averaged over the N triplets with ℓ &gt; 0
/// (averaging over all triplets would shrink the gradient as more of them become easy).</description></item>
/// <item><description><see cref="TripletMining.BatchHard"/>: per anchor, ℓ(a, argmax_p D²(a,p), argmin_n D²(a,n)),
/// averaged over the N anchors with at least one positive and one negative, zero terms included. Ties go
/// to the lowest row index.</description></item>
/// <item><description><see cref="TripletMining.SemiHard"/>: per anchor-positive pair, the negative with the smallest
/// D²(a,n) among those with D²(a,p) &lt; D²(a,n) &lt; D²(a,p) + α, averaged over the N pairs that have
/// such a negative. Pairs without one are skipped.</description></item>
/// </list>
/// <para>
/// Sources: Schroff, Kalenichenko and Philbin, "FaceNet: A Unified Embedding for Face Recognition and
/// Clustering" (CVPR 2015), for the loss on squared distances of unit vectors, the semi-hard negatives and
/// α = 0.2; Hermans, Beyer and Leibe, "In Defense of the Triplet Loss for Person Re-Identification"
/// (arXiv:1703.07737, 2017), for batch-hard and batch-all mining in P × K batches.
/// </para>
/// <para>Cost for a batch of B rows of dimension d: two B × B × d matrix products (distances and backward pass),
/// plus, for batch-all and semi-hard, one sort of each anchor's negative distances, O(B² log B) in all.
/// Everything runs on the calling thread.</para>
/// </remarks>
public sealed class TripletLoss : MetricLoss, IDoublePrecisionLoss
{
    /// <summary>Default margin α, the FaceNet value for unit-length embeddings.</summary>
    public const double DefaultMargin = 0.2;

    private readonly bool _normalizeEmbeddings;
    private int _dimension;
    private int _classCount;

    /// <summary>Creates a triplet loss.</summary>
    /// <param name="mining">Triplet selection inside a batch.</param>
    /// <param name="margin">Margin α on squared distances, in (0, 1e6].</param>
    /// <param name="normalizeEmbeddings">Whether the head should L2-normalise its output (the value of <see cref="RequiresNormalizedEmbeddings"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> is not in (0, 1e6], or <paramref name="mining"/> is not a defined value.</exception>
    public TripletLoss(TripletMining mining = TripletMining.BatchHard, double margin = DefaultMargin, bool normalizeEmbeddings = true)
    {
        if (!Enum.IsDefined(mining))
        {
            throw new ArgumentOutOfRangeException(nameof(mining), mining, $"mining is {(int)mining}; use BatchAll, BatchHard or SemiHard.");
        }

        LossMath.CheckAbove(margin, 0, 1e6, nameof(margin));
        Mining = mining;
        Margin = margin;
        _normalizeEmbeddings = normalizeEmbeddings;
    }

    /// <summary>Triplet selection inside a batch.</summary>
    public TripletMining Mining { get; }

    /// <summary>Margin α on squared distances.</summary>
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
        int n = LossMath.CheckBatch(x, labels, gradient, _dimension, _classCount, nameof(TripletLoss));
        gradient.Clear();
        if (n < 3)
        {
            return T.Zero;
        }

        T[] distanceBuffer = LossMath.RentCleared<T>(checked(n * n));
        T[] weightBuffer = LossMath.RentCleared<T>(n * n);
        try
        {
            Span<T> distances = distanceBuffer.AsSpan(0, n * n);
            Span<T> weights = weightBuffer.AsSpan(0, n * n);
            LossMath.SquaredDistances(x, n, _dimension, distances);

            T margin = T.CreateTruncating(Margin);
            (T total, long count) = Mining switch
            {
                TripletMining.BatchAll => MineBatchAll(distances, labels, n, margin, weights),
                TripletMining.BatchHard => MineBatchHard(distances, labels, n, margin, weights),
                _ => MineSemiHard(distances, labels, n, margin, weights),
            };

            if (count == 0)
            {
                return T.Zero;
            }

            // Each pair's cell counts the active triplets that use it (+ as positive, − as negative), so dividing by N gives d loss / d D².
            T inverseCount = T.One / T.CreateTruncating(count);
            for (int i = 0; i < weights.Length; i++)
            {
                weights[i] *= inverseCount;
            }

            LossMath.DistanceGradient(x, n, _dimension, weights, gradient);
            return total * inverseCount;
        }
        finally
        {
            LossMath.Return(distanceBuffer);
            LossMath.Return(weightBuffer);
        }
    }

    // Adds one active triplet's term D²(a,p) − D²(a,n) to the symmetric pair-weight matrix.
    private static void AddTriplet<T>(Span<T> weights, int n, int a, int p, int negative)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        weights[(a * n) + p] += T.One;
        weights[(p * n) + a] += T.One;
        weights[(a * n) + negative] -= T.One;
        weights[(negative * n) + a] -= T.One;
    }

    // Per anchor, the negatives are sorted by distance once. For a positive with threshold t = D²(a,p) + α,
    // the k negatives with D²(a,n) < t form a prefix, whose terms sum to k t − (sum of their distances).
    // This costs O(B log B) per anchor instead of one pass over the negatives per positive.
    private static (T Total, long Count) MineBatchAll<T>(ReadOnlySpan<T> distances, ReadOnlySpan<int> labels, int n, T margin, Span<T> weights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] negativeBuffer = LossMath.RentCleared<T>(n);
        int[] negativeIndexBuffer = LossMath.RentCleared<int>(n);
        T[] thresholdBuffer = LossMath.RentCleared<T>(n);
        double[] prefixBuffer = LossMath.RentCleared<double>(n + 1);
        try
        {
            double total = 0;
            long count = 0;
            for (int a = 0; a < n; a++)
            {
                ReadOnlySpan<T> row = distances.Slice(a * n, n);
                int negativeCount = SortedNegatives(row, labels, a, negativeBuffer, negativeIndexBuffer);
                Span<T> negatives = negativeBuffer.AsSpan(0, negativeCount);
                if (negativeCount == 0)
                {
                    continue;
                }

                // Prefix sums in double, so k t − prefix[k] keeps its precision for float inputs.
                Span<double> prefix = prefixBuffer.AsSpan(0, negativeCount + 1);
                for (int j = 0; j < negativeCount; j++)
                {
                    prefix[j + 1] = prefix[j] + double.CreateTruncating(negatives[j]);
                }

                int positiveCount = 0;
                for (int p = 0; p < n; p++)
                {
                    if (p == a || labels[p] != labels[a])
                    {
                        continue;
                    }

                    T threshold = row[p] + margin;
                    thresholdBuffer[positiveCount++] = threshold;
                    int active = CountBelow(negatives, threshold);
                    if (active == 0)
                    {
                        continue;
                    }

                    total += (active * double.CreateTruncating(threshold)) - prefix[active];
                    count += active;
                    T weight = T.CreateTruncating(active);
                    weights[(a * n) + p] += weight;
                    weights[(p * n) + a] += weight;
                }

                // Negative j enters every triplet whose positive has a threshold above D²(a, j).
                Span<T> thresholds = thresholdBuffer.AsSpan(0, positiveCount);
                thresholds.Sort();
                for (int j = 0; j < negativeCount; j++)
                {
                    int active = positiveCount - CountAtOrBelow(thresholds, negatives[j]);
                    if (active == 0)
                    {
                        break;
                    }

                    int negative = negativeIndexBuffer[j];
                    T weight = T.CreateTruncating(active);
                    weights[(a * n) + negative] -= weight;
                    weights[(negative * n) + a] -= weight;
                }
            }

            return (T.CreateTruncating(total), count);
        }
        finally
        {
            LossMath.Return(negativeBuffer);
            LossMath.Return(negativeIndexBuffer);
            LossMath.Return(thresholdBuffer);
            LossMath.Return(prefixBuffer);
        }
    }

    private static (T Total, long Count) MineBatchHard<T>(ReadOnlySpan<T> distances, ReadOnlySpan<int> labels, int n, T margin, Span<T> weights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T total = T.Zero;
        long count = 0;
        for (int a = 0; a < n; a++)
        {
            ReadOnlySpan<T> row = distances.Slice(a * n, n);
            int hardestPositive = -1;
            int hardestNegative = -1;
            for (int j = 0; j < n; j++)
            {
                if (j == a)
                {
                    continue;
                }

                if (labels[j] == labels[a])
                {
                    if (hardestPositive < 0 || row[j] > row[hardestPositive])
                    {
                        hardestPositive = j;
                    }
                }
                else if (hardestNegative < 0 || row[j] < row[hardestNegative])
                {
                    hardestNegative = j;
                }
            }

            if (hardestPositive < 0 || hardestNegative < 0)
            {
                continue;
            }

            count++;
            T term = row[hardestPositive] - row[hardestNegative] + margin;
            if (term > T.Zero)
            {
                total += term;
                AddTriplet(weights, n, a, hardestPositive, hardestNegative);
            }
        }

        return (total, count);
    }

    private static (T Total, long Count) MineSemiHard<T>(ReadOnlySpan<T> distances, ReadOnlySpan<int> labels, int n, T margin, Span<T> weights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] negativeBuffer = LossMath.RentCleared<T>(n);
        int[] negativeIndexBuffer = LossMath.RentCleared<int>(n);
        try
        {
            T total = T.Zero;
            long count = 0;
            for (int a = 0; a < n; a++)
            {
                ReadOnlySpan<T> row = distances.Slice(a * n, n);
                int negativeCount = SortedNegatives(row, labels, a, negativeBuffer, negativeIndexBuffer);
                ReadOnlySpan<T> negatives = negativeBuffer.AsSpan(0, negativeCount);
                for (int p = 0; p < n; p++)
                {
                    if (p == a || labels[p] != labels[a])
                    {
                        continue;
                    }

                    // The nearest negative farther than the positive is the first one after all distances <= D²(a,p).
                    T positive = row[p];
                    T limit = positive + margin;
                    int first = CountAtOrBelow(negatives, positive);
                    if (first == negativeCount || negatives[first] >= limit)
                    {
                        continue;
                    }

                    count++;
                    total += limit - negatives[first];
                    AddTriplet(weights, n, a, p, negativeIndexBuffer[first]);
                }
            }

            return (total, count);
        }
        finally
        {
            LossMath.Return(negativeBuffer);
            LossMath.Return(negativeIndexBuffer);
        }
    }

    /// <summary>Writes the distances from anchor a to its negatives in ascending order, with their row indices, and returns their count.</summary>
    private static int SortedNegatives<T>(ReadOnlySpan<T> row, ReadOnlySpan<int> labels, int a, T[] negatives, int[] indices)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = 0;
        for (int j = 0; j < row.Length; j++)
        {
            if (labels[j] != labels[a])
            {
                negatives[count] = row[j];
                indices[count] = j;
                count++;
            }
        }

        negatives.AsSpan(0, count).Sort(indices.AsSpan(0, count));
        return count;
    }

    /// <summary>Returns the number of entries of the ascending <paramref name="sorted"/> that are below <paramref name="value"/>.</summary>
    private static int CountBelow<T>(ReadOnlySpan<T> sorted, T value)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int low = 0;
        int high = sorted.Length;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (sorted[middle] < value)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>Returns the number of entries of the ascending <paramref name="sorted"/> that are at most <paramref name="value"/>.</summary>
    private static int CountAtOrBelow<T>(ReadOnlySpan<T> sorted, T value)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int low = 0;
        int high = sorted.Length;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (sorted[middle] <= value)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
