namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>
/// Softmax cross-entropy over class weights, the baseline for the margin losses: by default on cosines
/// with a fixed scale (normalised softmax), optionally the plain linear softmax.
/// </summary>
/// <remarks>
/// <para>
/// Normalised (the default): z_j = s · cos θ_j with cos θ_j = ŵ_j·x̂, where ŵ_j and x̂ are the L2-normalised
/// class weight and embedding; there is no bias. This is the NormFace loss of Wang, Xiang, Cheng and Yuille,
/// "NormFace: L2 Hypersphere Embedding for Face Verification" (ACM Multimedia 2017), with a fixed scale.
/// Unnormalised: z_j = w_j·x + b_j, the usual linear classifier; <see cref="Scale"/> is then unused.
/// </para>
/// <para>The loss is the mean over the batch of −log softmax(z)_y. Cosines are clamped to [−1 + ε, 1 − ε] with ε = 2⁻²³.</para>
/// <para>
/// On the scale: cosines are bounded, so s caps the target probability and must grow with the class count C.
/// At the best layout for C = 10 (target cosine 1, the other nine −1/9), s = 16 allows a target probability
/// of 1 − 1.7e-7.
/// </para>
/// <para>Parameters: "loss.classWeight" (C × d) and, when unnormalised, "loss.classBias" (C × 1).</para>
/// </remarks>
public sealed class NormalizedSoftmaxLoss : MetricLoss, IDoublePrecisionLoss
{
    /// <summary>Default scale s of the normalised form.</summary>
    public const double DefaultScale = 16;

    private readonly ClassWeights _weights;

    /// <summary>Creates a softmax loss.</summary>
    /// <param name="scale">Scale s of the normalised form, in (0, 1000].</param>
    /// <param name="normalize">True for s · cos θ logits without bias; false for the linear logits w·x + b.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scale"/> is not in (0, 1000].</exception>
    public NormalizedSoftmaxLoss(double scale = DefaultScale, bool normalize = true)
    {
        LossMath.CheckAbove(scale, 0, 1000, nameof(scale));
        Scale = scale;
        Normalize = normalize;
        _weights = new ClassWeights(nameof(NormalizedSoftmaxLoss), hasBias: !normalize);
    }

    /// <summary>Scale s of the normalised form.</summary>
    public double Scale { get; }

    /// <summary>Whether logits are scaled cosines (true) or linear (false).</summary>
    public bool Normalize { get; }

    /// <inheritdoc/>
    public override bool RequiresNormalizedEmbeddings => Normalize;

    /// <inheritdoc/>
    public override IReadOnlyList<TrainableParameter> Parameters => _weights.Parameters;

    /// <inheritdoc/>
    public override void Initialize(int embeddingDimension, int classCount, Random random) =>
        _weights.Initialize(embeddingDimension, classCount, random);

    /// <inheritdoc/>
    public override float Compute(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> labels, Span<float> embeddingGradient) =>
        _weights.Compute(Form, Scale, null, embeddings, labels, embeddingGradient);

    double IDoublePrecisionLoss.ComputeDouble(ReadOnlySpan<double> embeddings, ReadOnlySpan<int> labels, IReadOnlyList<double[]> parameterValues,
        Span<double> embeddingGradient, IReadOnlyList<double[]> parameterGradients) =>
        _weights.ComputeDouble(Form, Scale, null, embeddings, labels, parameterValues, embeddingGradient, parameterGradients);

    private LogitForm Form => Normalize ? LogitForm.ScaledCosine : LogitForm.Linear;
}
