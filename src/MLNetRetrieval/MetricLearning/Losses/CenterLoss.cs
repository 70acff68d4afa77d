using System.Numerics;

namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>
/// Center loss: softmax cross-entropy of a linear classifier plus a pull of each embedding towards a
/// running centre of its class.
/// </summary>
/// <remarks>
/// <para>
/// For a batch of B rows, L = (1/B) Σ_i [ −log softmax(W x_i + b)_{y_i} + (λ/2) ‖x_i − c_{y_i}‖² ]. The λ/2 and
/// the centre update follow Wen, Zhang, Li and Qiao, "A Discriminative Feature Learning Approach for Deep Face
/// Recognition" (ECCV 2016), so the centre term adds λ (x_i − c_{y_i}) / B to the embedding gradient; unlike
/// that paper, both terms are averaged over the batch rather than summed.
/// </para>
/// <para>
/// The centres c_j are not trained by the optimizer. After each step, <see cref="OnStepCompleted"/> moves
/// every class j present in the last batch: c_j ← c_j − α Σ_{i: y_i = j} (c_j − x_i) / (1 + n_j), with n_j its
/// number of rows in that batch and x_i the embeddings given to the last <see cref="Compute"/>. Classes absent
/// from the batch keep their centres. Centres start at zero.
/// </para>
/// <para>
/// With the defaults λ = 0.003 and α = 0.5 the classifier term dominates. A larger λ (0.01 to 0.1) makes
/// classes tighter, at the risk of shrinking all embeddings towards the origin.
/// </para>
/// <para>Parameters: "loss.classWeight" (C × d) and "loss.classBias" (C × 1).</para>
/// </remarks>
public sealed class CenterLoss : MetricLoss, IDoublePrecisionLoss
{
    /// <summary>Default weight λ of the centre term.</summary>
    public const double DefaultCenterWeight = 0.003;

    /// <summary>Default centre update rate α.</summary>
    public const double DefaultCenterRate = 0.5;

    private readonly ClassWeights _weights = new(nameof(CenterLoss), hasBias: true);
    private float[] _centers = [];
    private float[] _lastEmbeddings = [];
    private int[] _lastLabels = [];
    private int _lastRows;

    /// <summary>Creates a center loss.</summary>
    /// <param name="centerWeight">Weight λ of the centre term, in [0, 1e6].</param>
    /// <param name="centerRate">Centre update rate α, in [0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range.</exception>
    public CenterLoss(double centerWeight = DefaultCenterWeight, double centerRate = DefaultCenterRate)
    {
        LossMath.CheckRange(centerWeight, 0, 1e6, nameof(centerWeight));
        LossMath.CheckRange(centerRate, 0, 1, nameof(centerRate));
        CenterWeight = centerWeight;
        CenterRate = centerRate;
    }

    /// <summary>Weight λ of the centre term.</summary>
    public double CenterWeight { get; }

    /// <summary>Centre update rate α.</summary>
    public double CenterRate { get; }

    /// <summary>Class centres, row-major, classCount × embeddingDimension; empty before initialization.</summary>
    public ReadOnlySpan<float> Centers => _centers;

    /// <inheritdoc/>
    public override IReadOnlyList<TrainableParameter> Parameters => _weights.Parameters;

    /// <inheritdoc/>
    public override void Initialize(int embeddingDimension, int classCount, Random random)
    {
        _weights.Initialize(embeddingDimension, classCount, random);
        _centers = new float[checked(classCount * embeddingDimension)];
        _lastEmbeddings = [];
        _lastLabels = [];
        _lastRows = 0;
    }

    /// <inheritdoc/>
    public override float Compute(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> labels, Span<float> embeddingGradient)
    {
        float loss = _weights.Compute(LogitForm.Linear, 1, null, embeddings, labels, embeddingGradient);
        loss += AddCenterTerm<float>(embeddings, labels, _centers, embeddingGradient);
        RememberBatch(embeddings, labels);
        return loss;
    }

    /// <summary>Moves the centres of the classes in the last batch towards that batch's embeddings.</summary>
    /// <param name="step">Number of steps done so far.</param>
    public override void OnStepCompleted(long step)
    {
        int d = _weights.Dimension;
        if (_lastRows == 0 || d == 0)
        {
            return;
        }

        int classes = _weights.ClassCount;
        float[] sums = new float[_centers.Length];
        int[] counts = new int[classes];
        for (int i = 0; i < _lastRows; i++)
        {
            int y = _lastLabels[i];
            counts[y]++;
            Span<float> sum = sums.AsSpan(y * d, d);
            ReadOnlySpan<float> row = _lastEmbeddings.AsSpan(i * d, d);
            ReadOnlySpan<float> center = _centers.AsSpan(y * d, d);
            for (int k = 0; k < d; k++)
            {
                sum[k] += center[k] - row[k];
            }
        }

        for (int j = 0; j < classes; j++)
        {
            if (counts[j] == 0)
            {
                continue;
            }

            float factor = (float)(CenterRate / (1 + counts[j]));
            Span<float> center = _centers.AsSpan(j * d, d);
            ReadOnlySpan<float> sum = sums.AsSpan(j * d, d);
            for (int k = 0; k < d; k++)
            {
                center[k] -= factor * sum[k];
            }
        }

        // One update per computed batch: a second call without a new Compute leaves the centres alone.
        _lastRows = 0;
    }

    double IDoublePrecisionLoss.ComputeDouble(ReadOnlySpan<double> embeddings, ReadOnlySpan<int> labels, IReadOnlyList<double[]> parameterValues,
        Span<double> embeddingGradient, IReadOnlyList<double[]> parameterGradients)
    {
        double loss = _weights.ComputeDouble(LogitForm.Linear, 1, null, embeddings, labels, parameterValues, embeddingGradient, parameterGradients);
        double[] centers = Array.ConvertAll(_centers, value => (double)value);
        return loss + AddCenterTerm<double>(embeddings, labels, centers, embeddingGradient);
    }

    /// <summary>Replaces the centres; tests use it to start from known values.</summary>
    internal void SetCenters(ReadOnlySpan<float> centers)
    {
        if (centers.Length != _centers.Length)
        {
            throw new ArgumentException($"centers has {centers.Length} values, expected classCount * embeddingDimension = {_centers.Length}.", nameof(centers));
        }

        centers.CopyTo(_centers);
    }

    private T AddCenterTerm<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> labels, T[] centers, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = labels.Length;
        if (rows == 0)
        {
            return T.Zero;
        }

        int d = _weights.Dimension;
        T lambda = T.CreateTruncating(CenterWeight);
        T inverseRows = T.One / T.CreateTruncating(rows);
        T half = T.CreateTruncating(0.5);
        T total = T.Zero;
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<T> row = x.Slice(i * d, d);
            ReadOnlySpan<T> center = centers.AsSpan(labels[i] * d, d);
            Span<T> g = gradient.Slice(i * d, d);
            for (int k = 0; k < d; k++)
            {
                T difference = row[k] - center[k];
                total += difference * difference;
                g[k] += lambda * difference * inverseRows;
            }
        }

        return half * lambda * total * inverseRows;
    }

    private void RememberBatch(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> labels)
    {
        if (_lastEmbeddings.Length < embeddings.Length)
        {
            _lastEmbeddings = new float[embeddings.Length];
            _lastLabels = new int[labels.Length];
        }

        embeddings.CopyTo(_lastEmbeddings);
        labels.CopyTo(_lastLabels);
        _lastRows = labels.Length;
    }
}
