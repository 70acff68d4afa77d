namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>
/// ArcFace (additive angular margin loss): softmax cross-entropy on scaled cosines where the target angle
/// is enlarged by a margin, z_y = s · cos(θ_y + m).
/// </summary>
/// <remarks>
/// <para>
/// With cos θ_j = ŵ_j·x̂ (L2-normalised class weight and embedding), z_j = s · cos θ_j for j ≠ y and
/// z_y = s · φ(θ_y); the loss is the batch mean of −log softmax(z)_y. Source: Deng, Guo, Xue and Zafeiriou,
/// "ArcFace: Additive Angular Margin Loss for Deep Face Recognition" (CVPR 2019), which trains faces with
/// s = 64 and m = 0.5.
/// </para>
/// <para>
/// cos(θ + m) rises again once θ + m passes π, which would reward a target moving away from its class.
/// The default form therefore switches to the linear fallback that most public PyTorch ArcFace implementations use:
/// φ(θ) = cos(θ + m) when cos θ &gt; cos(π − m), and φ(θ) = cos θ − m · sin m otherwise. Both pieces decrease
/// in θ, and at θ = π − m the value steps down from −1 to −cos m − m · sin m, so φ never increases.
/// With <see cref="EasyMargin"/>, φ(θ) = cos(θ + m) for cos θ &gt; 0 and cos θ otherwise: only angles below
/// π/2 get a margin, and φ steps up at θ = π/2.
/// </para>
/// <para>
/// cos(θ + m) = c cos m − √(1 − c²) sin m, and its slope in c divides by √(1 − c²). Every cosine is
/// therefore clamped to [−1 + ε, 1 − ε] with ε = 2⁻²³ before the margin, so a cosine rounded to 1 or above
/// gives a finite value and a zero gradient through the clamp instead of NaN.
/// </para>
/// <para>
/// The default s = 30 is lower than the face setting, because with few classes a moderate scale already lets
/// the target probability approach 1 (see <see cref="CosFaceLoss"/> for the bound).
/// </para>
/// <para>Parameters: "loss.classWeight" (C × d).</para>
/// </remarks>
public sealed class ArcFaceLoss : MetricLoss, IDoublePrecisionLoss
{
    /// <summary>Default scale s.</summary>
    public const double DefaultScale = 30;

    /// <summary>Default angular margin m, in radians.</summary>
    public const double DefaultMargin = 0.5;

    private readonly ClassWeights _weights = new(nameof(ArcFaceLoss), hasBias: false);
    private readonly TargetLogitFunction _target;
    private readonly double _cosMargin;
    private readonly double _sinMargin;
    private readonly double _threshold;

    /// <summary>Creates an ArcFace loss.</summary>
    /// <param name="scale">Scale s, in (0, 1000].</param>
    /// <param name="margin">Angular margin m in radians, in [0, 1.5].</param>
    /// <param name="easyMargin">Apply the margin only where cos θ_y &gt; 0, instead of the linear fallback beyond θ_y = π − m.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range.</exception>
    public ArcFaceLoss(double scale = DefaultScale, double margin = DefaultMargin, bool easyMargin = false)
    {
        LossMath.CheckAbove(scale, 0, 1000, nameof(scale));
        LossMath.CheckRange(margin, 0, 1.5, nameof(margin));
        Scale = scale;
        Margin = margin;
        EasyMargin = easyMargin;
        _cosMargin = Math.Cos(margin);
        _sinMargin = Math.Sin(margin);
        _threshold = easyMargin ? 0 : Math.Cos(Math.PI - margin);
        _target = TargetLogit;
    }

    /// <summary>Scale s.</summary>
    public double Scale { get; }

    /// <summary>Angular margin m, in radians.</summary>
    public double Margin { get; }

    /// <summary>Whether the margin applies only where cos θ_y &gt; 0.</summary>
    public bool EasyMargin { get; }

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

    /// <summary>Computes φ for a target cosine already clamped to [−1 + ε, 1 − ε], and dφ / d cos θ.</summary>
    internal double TargetLogit(double cosine, out double derivative)
    {
        if (cosine > _threshold)
        {
            double sine = Math.Sqrt(1 - (cosine * cosine));
            derivative = _cosMargin + (cosine * _sinMargin / sine);
            return (cosine * _cosMargin) - (sine * _sinMargin);
        }

        derivative = 1;
        return EasyMargin ? cosine : cosine - (Margin * _sinMargin);
    }
}
