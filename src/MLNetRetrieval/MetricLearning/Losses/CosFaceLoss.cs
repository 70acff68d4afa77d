namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>
/// CosFace (large margin cosine loss): softmax cross-entropy on scaled cosines with an additive cosine
/// margin subtracted from the target class.
/// </summary>
/// <remarks>
/// <para>
/// With cos θ_j = ŵ_j·x̂ (L2-normalised class weight and embedding), the logits are
/// z_y = s · (cos θ_y − m) for the target class y and z_j = s · cos θ_j otherwise; the loss is the batch
/// mean of −log softmax(z)_y. Cosines are clamped to [−1 + ε, 1 − ε] with ε = 2⁻²³.
/// Source: Wang, Wang, Zhou, Ji, Gong, Zhou, Li and Liu, "CosFace: Large Margin Cosine Loss for Deep Face
/// Recognition" (CVPR 2018), which trains faces with s = 64 and m = 0.35.
/// </para>
/// <para>
/// The default s = 30 is lower than the face setting, because s only has to let the target probability
/// approach 1. With the class weights at the vertices of a regular simplex (target cosine 1, the others
/// −1/(C − 1)), a target probability P needs s ≥ (C − 1)/C · ln((C − 1) P / (1 − P)), about 6.1 for C = 10
/// and P = 0.99. A smaller s also keeps logits and gradients moderate when there are few classes.
/// </para>
/// <para>Parameters: "loss.classWeight" (C × d).</para>
/// </remarks>
public sealed class CosFaceLoss : MetricLoss, IDoublePrecisionLoss
{
    /// <summary>Default scale s.</summary>
    public const double DefaultScale = 30;

    /// <summary>Default cosine margin m.</summary>
    public const double DefaultMargin = 0.35;

    private readonly ClassWeights _weights = new(nameof(CosFaceLoss), hasBias: false);
    private readonly TargetLogitFunction _target;

    /// <summary>Creates a CosFace loss.</summary>
    /// <param name="scale">Scale s, in (0, 1000].</param>
    /// <param name="margin">Cosine margin m, in [0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range.</exception>
    public CosFaceLoss(double scale = DefaultScale, double margin = DefaultMargin)
    {
        LossMath.CheckAbove(scale, 0, 1000, nameof(scale));
        LossMath.CheckRange(margin, 0, 1, nameof(margin));
        Scale = scale;
        Margin = margin;
        _target = TargetLogit;
    }

    /// <summary>Scale s.</summary>
    public double Scale { get; }

    /// <summary>Cosine margin m.</summary>
    public double Margin { get; }

    /// <inheritdoc/>
    public override bool RequiresNormalizedEmbeddings => true;

    /// <inheritdoc/>
    public override IReadOnlyList<TrainableParameter> Parameters => _weights.Parameters;

    /// <inheritdoc/>
    public override void Initialize(int embeddingDimension, int classCount, Random random) =>
        _weights.Initialize(embeddingDimension, classCount, random);

    /// <inheritdoc/>
    public override float Compute(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> labels, Span<float> embeddingGradient) =>
        _weights.Compute(LogitForm.ScaledCosine, Scale, _target, embeddings, labels, embeddingGradient);

    double IDoublePrecisionLoss.ComputeDouble(ReadOnlySpan<double> embeddings, ReadOnlySpan<int> labels, IReadOnlyList<double[]> parameterValues,
        Span<double> embeddingGradient, IReadOnlyList<double[]> parameterGradients) =>
        _weights.ComputeDouble(LogitForm.ScaledCosine, Scale, _target, embeddings, labels, parameterValues, embeddingGradient, parameterGradients);

    private double TargetLogit(double cosine, out double derivative)
    {
        derivative = 1;
        return cosine - Margin;
    }
}
