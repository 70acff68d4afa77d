namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>
/// SphereFace (A-Softmax): softmax cross-entropy with a multiplicative angular margin cos(mθ) on the target
/// class, normalised class weights, the embedding norm kept in the logits, and the softmax to A-Softmax
/// annealing that makes it train.
/// </summary>
/// <remarks>
/// <para>
/// With cos θ_j = ŵ_j·x̂, z_j = ‖x‖ cos θ_j for j ≠ y and z_y = ‖x‖ (λ cos θ_y + ψ(θ_y)) / (1 + λ), where
/// ψ(θ) = (−1)^k cos(mθ) − 2k for θ in [kπ/m, (k + 1)π/m], k = 0 … m − 1. ψ decreases monotonically from 1
/// at θ = 0 to −2m + 1 at θ = π. The loss is the batch mean of −log softmax(z)_y. cos(mθ) is the Chebyshev
/// polynomial T_m(cos θ), so its slope m·U_{m−1}(cos θ) stays finite at θ = 0 and π. Cosines are clamped
/// to [−1 + ε, 1 − ε] with ε = 2⁻²³.
/// </para>
/// <para>
/// The annealing weight after step t (the value passed to <see cref="OnStepCompleted"/>; 0 before the first
/// step) is λ = max(λ_min, base · (1 + γ t)^(−power)). A large λ makes the target logit nearly the plain
/// ‖x‖ cos θ_y; as λ falls towards λ_min the margin takes over. The defaults (base 1000, γ = 0.12,
/// power 1, λ_min 5) reach λ_min after 1659 steps.
/// </para>
/// <para>
/// The embedding is not normalised (<see cref="MetricLoss.RequiresNormalizedEmbeddings"/> is false): its norm scales
/// the logits, as A-Softmax prescribes. Source: Liu, Wen, Yu, Li, Raj and Song, "SphereFace: Deep Hypersphere
/// Embedding for Face Recognition" (CVPR 2017). The default m = 4 is the margin that paper reports for faces.
/// </para>
/// <para>Parameters: "loss.classWeight" (C × d).</para>
/// </remarks>
public sealed class SphereFaceLoss : MetricLoss, IDoublePrecisionLoss
{
    /// <summary>Default multiplicative margin m.</summary>
    public const int DefaultMargin = 4;

    /// <summary>Default starting annealing weight (λ at step 0).</summary>
    public const double DefaultLambdaBase = 1000;

    /// <summary>Default annealing rate γ.</summary>
    public const double DefaultLambdaGamma = 0.12;

    /// <summary>Default annealing exponent.</summary>
    public const double DefaultLambdaPower = 1;

    /// <summary>Default floor of the annealing weight.</summary>
    public const double DefaultLambdaMin = 5;

    /// <summary>Largest accepted margin m.</summary>
    public const int MaxMargin = 10;

    private readonly ClassWeights _weights = new(nameof(SphereFaceLoss), hasBias: false);
    private readonly TargetLogitFunction _target;

    /// <summary>Creates a SphereFace loss.</summary>
    /// <param name="margin">Integer margin m, in [1, <see cref="MaxMargin"/>]; m = 1 is a normalised-weight softmax.</param>
    /// <param name="lambdaBase">λ at step 0, in [0, 1e9].</param>
    /// <param name="lambdaGamma">Annealing rate γ, in [0, 1e6].</param>
    /// <param name="lambdaPower">Annealing exponent, in [0, 100].</param>
    /// <param name="lambdaMin">Floor λ_min of the annealing weight, in [0, 1e9].</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range.</exception>
    public SphereFaceLoss(int margin = DefaultMargin, double lambdaBase = DefaultLambdaBase, double lambdaGamma = DefaultLambdaGamma,
        double lambdaPower = DefaultLambdaPower, double lambdaMin = DefaultLambdaMin)
    {
        if (margin < 1 || margin > MaxMargin)
        {
            throw new ArgumentOutOfRangeException(nameof(margin), margin, $"margin is {margin}; it must be an integer in [1, {MaxMargin}].");
        }

        LossMath.CheckRange(lambdaBase, 0, 1e9, nameof(lambdaBase));
        LossMath.CheckRange(lambdaGamma, 0, 1e6, nameof(lambdaGamma));
        LossMath.CheckRange(lambdaPower, 0, 100, nameof(lambdaPower));
        LossMath.CheckRange(lambdaMin, 0, 1e9, nameof(lambdaMin));
        Margin = margin;
        LambdaBase = lambdaBase;
        LambdaGamma = lambdaGamma;
        LambdaPower = lambdaPower;
        LambdaMin = lambdaMin;
        Lambda = ComputeLambda(0);
        _target = TargetLogit;
    }

    /// <summary>Integer margin m.</summary>
    public int Margin { get; }

    /// <summary>λ at step 0.</summary>
    public double LambdaBase { get; }

    /// <summary>Annealing rate γ.</summary>
    public double LambdaGamma { get; }

    /// <summary>Annealing exponent.</summary>
    public double LambdaPower { get; }

    /// <summary>Floor λ_min of the annealing weight.</summary>
    public double LambdaMin { get; }

    /// <summary>The annealing weight λ that the next <see cref="Compute"/> uses.</summary>
    public double Lambda { get; private set; }

    /// <inheritdoc/>
    public override IReadOnlyList<TrainableParameter> Parameters => _weights.Parameters;

    /// <inheritdoc/>
    public override void Initialize(int embeddingDimension, int classCount, Random random) =>
        _weights.Initialize(embeddingDimension, classCount, random);

    /// <inheritdoc/>
    public override float Compute(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> labels, Span<float> embeddingGradient) =>
        _weights.Compute(LogitForm.FeatureNormCosine, 1, _target, embeddings, labels, embeddingGradient);

    /// <summary>Sets <see cref="Lambda"/> for the steps done so far.</summary>
    /// <param name="step">Number of steps done, at least 0.</param>
    public override void OnStepCompleted(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Lambda = ComputeLambda(step);
    }

    double IDoublePrecisionLoss.ComputeDouble(ReadOnlySpan<double> embeddings, ReadOnlySpan<int> labels, IReadOnlyList<double[]> parameterValues,
        Span<double> embeddingGradient, IReadOnlyList<double[]> parameterGradients) =>
        _weights.ComputeDouble(LogitForm.FeatureNormCosine, 1, _target, embeddings, labels, parameterValues, embeddingGradient, parameterGradients);

    /// <summary>Computes (λ cos θ + ψ(θ)) / (1 + λ) for a clamped target cosine, and its derivative in cos θ.</summary>
    internal double TargetLogit(double cosine, out double derivative)
    {
        double psi = Psi(cosine, Margin, out double psiDerivative);
        derivative = (Lambda + psiDerivative) / (1 + Lambda);
        return ((Lambda * cosine) + psi) / (1 + Lambda);
    }

    /// <summary>Computes ψ(θ) = (−1)^k T_m(cos θ) − 2k and dψ / d cos θ = (−1)^k m U_{m−1}(cos θ).</summary>
    internal static double Psi(double cosine, int m, out double derivative)
    {
        // k is piecewise constant in θ, so it carries no gradient; θ = π would give k = m, which belongs to the last piece.
        int k = Math.Min((int)Math.Floor(m * Math.Acos(cosine) / Math.PI), m - 1);

        // Chebyshev recurrences: T_{i+1} = 2c T_i − T_{i−1} (T_0 = 1, T_1 = c) and U likewise (U_0 = 1, U_1 = 2c).
        double tPrevious = 1;
        double t = cosine;
        double uPrevious = 0;
        double u = 1;
        for (int i = 1; i < m; i++)
        {
            (tPrevious, t) = (t, (2 * cosine * t) - tPrevious);
            (uPrevious, u) = (u, (2 * cosine * u) - uPrevious);
        }

        double sign = k % 2 == 0 ? 1 : -1;
        derivative = sign * m * u;
        return (sign * t) - (2 * k);
    }

    private double ComputeLambda(long step) =>
        Math.Max(LambdaMin, LambdaBase * Math.Pow(1 + (LambdaGamma * step), -LambdaPower));
}
