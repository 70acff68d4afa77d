using System.Globalization;
using MLNetRetrieval.MetricLearning.Losses;

namespace MLNetRetrieval.MetricLearning;

/// <summary>The metric-learning losses that <see cref="MetricLossFactory"/> can create.</summary>
/// <remarks>The byte values are explicit, so a stored value keeps its meaning when kinds are added. Command lines use <see cref="MetricLossOptions.GetName(MetricLossKind)"/>.</remarks>
public enum MetricLossKind : byte
{
    /// <summary>Contrastive loss over all pairs of the batch: D² for same-class pairs, max(0, α − D²) otherwise.</summary>
    Contrastive = 1,

    /// <summary>Triplet loss max(0, D²(a, p) − D²(a, n) + α) with online mining (<see cref="Losses.TripletMining"/>).</summary>
    Triplet = 2,

    /// <summary>Softmax cross-entropy plus λ times the squared distance of each embedding to its class centre.</summary>
    Center = 3,

    /// <summary>SphereFace (A-Softmax): multiplicative angular margin cos(mθ) on the target class.</summary>
    SphereFace = 4,

    /// <summary>CosFace: additive cosine margin, target logit s·(cos θ − m).</summary>
    CosFace = 5,

    /// <summary>ArcFace: additive angular margin, target logit s·cos(θ + m).</summary>
    ArcFace = 6,

    /// <summary>Normalised softmax: cross-entropy over s·cos θ with no margin, the baseline of the angular losses.</summary>
    Softmax = 7,
}

/// <summary>
/// Choice of loss and its hyper-parameters. A null hyper-parameter takes the loss's own default,
/// which its class documents.
/// </summary>
public sealed class MetricLossOptions
{
    /// <summary>The loss; <see cref="MetricLossKind.ArcFace"/> by default.</summary>
    public MetricLossKind Kind { get; set; } = MetricLossKind.ArcFace;

    /// <summary>Triplet mining; used only by <see cref="MetricLossKind.Triplet"/>.</summary>
    public TripletMining Mining { get; set; } = TripletMining.BatchHard;

    /// <summary>
    /// Margin: α of the contrastive and triplet losses (squared distance), m of CosFace (cosine) and
    /// ArcFace (radians), the integer multiplier m of SphereFace. Not used by center and softmax.
    /// </summary>
    public double? Margin { get; set; }

    /// <summary>Logit scale s of the CosFace, ArcFace, SphereFace and softmax losses.</summary>
    public double? Scale { get; set; }

    /// <summary>Weight λ of the centre term of the center loss.</summary>
    public double? CenterWeight { get; set; }

    /// <summary>Update rate α of the class centres of the center loss, in (0, 1].</summary>
    public double? CenterUpdateRate { get; set; }

    /// <summary>Returns the name used on command lines, such as "arcface".</summary>
    public static string GetName(MetricLossKind kind) => kind switch
    {
        MetricLossKind.Contrastive => "contrastive",
        MetricLossKind.Triplet => "triplet",
        MetricLossKind.Center => "center",
        MetricLossKind.SphereFace => "sphereface",
        MetricLossKind.CosFace => "cosface",
        MetricLossKind.ArcFace => "arcface",
        MetricLossKind.Softmax => "softmax",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Unknown loss. Use one of: {string.Join(", ", Enum.GetNames<MetricLossKind>())}."),
    };

    /// <summary>Returns the name used on command lines, such as "batch-hard".</summary>
    public static string GetName(TripletMining mining) => mining switch
    {
        TripletMining.BatchAll => "batch-all",
        TripletMining.BatchHard => "batch-hard",
        TripletMining.SemiHard => "semi-hard",
        _ => throw new ArgumentOutOfRangeException(nameof(mining), mining, $"Unknown triplet mining. Use one of: {string.Join(", ", Enum.GetNames<TripletMining>())}."),
    };

    /// <summary>Describes the loss and the hyper-parameters that were set, for logs and reports.</summary>
    public override string ToString()
    {
        var parts = new List<string> { GetName(Kind) };
        if (Kind == MetricLossKind.Triplet)
            parts.Add("mining " + GetName(Mining));
        if (Margin is { } margin)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"margin {margin}"));
        if (Scale is { } scale)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"scale {scale}"));
        if (CenterWeight is { } weight)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"center weight {weight}"));
        if (CenterUpdateRate is { } rate)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"center rate {rate}"));
        return string.Join(", ", parts);
    }

    internal void Validate()
    {
        if (!Enum.IsDefined(Kind))
            throw new ArgumentOutOfRangeException(nameof(Kind), Kind, $"Unknown loss. Use one of: {string.Join(", ", Enum.GetNames<MetricLossKind>())}.");
        if (!Enum.IsDefined(Mining))
            throw new ArgumentOutOfRangeException(nameof(Mining), Mining, $"Unknown triplet mining. Use one of: {string.Join(", ", Enum.GetNames<TripletMining>())}.");
        CheckFinite(Margin, nameof(Margin));
        CheckFinite(Scale, nameof(Scale));
        CheckFinite(CenterWeight, nameof(CenterWeight));
        CheckFinite(CenterUpdateRate, nameof(CenterUpdateRate));
        if (Kind != MetricLossKind.Center && (CenterWeight is not null || CenterUpdateRate is not null))
            throw new ArgumentException($"CenterWeight and CenterUpdateRate apply to the center loss only, not {GetName(Kind)}. Leave them null.", nameof(CenterWeight));
        if (Kind is MetricLossKind.Center or MetricLossKind.Softmax && Margin is not null)
            throw new ArgumentException($"The {GetName(Kind)} loss has no margin, but Margin is {Margin}. Leave it null.", nameof(Margin));
        if (Kind is MetricLossKind.Contrastive or MetricLossKind.Triplet or MetricLossKind.Center && Scale is not null)
            throw new ArgumentException($"The {GetName(Kind)} loss has no logit scale, but Scale is {Scale}. Leave it null.", nameof(Scale));
    }

    private static void CheckFinite(double? value, string name)
    {
        if (value is { } number && !double.IsFinite(number))
            throw new ArgumentOutOfRangeException(name, number, $"{name} must be a finite number or null (the loss's default).");
    }
}

/// <summary>
/// Creates <see cref="MetricLoss"/> instances from <see cref="MetricLossOptions"/>. This is the one
/// place that maps loss names and settings to the loss classes.
/// </summary>
public static class MetricLossFactory
{
    /// <summary>Creates the loss that <paramref name="options"/> describes.</summary>
    /// <exception cref="ArgumentException">A hyper-parameter is out of the loss's range or does not apply to it.</exception>
    public static MetricLoss Create(MetricLossOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        return options.Kind switch
        {
            MetricLossKind.Contrastive => new ContrastiveLoss(options.Margin ?? ContrastiveLoss.DefaultMargin),
            MetricLossKind.Triplet => new TripletLoss(options.Mining, options.Margin ?? TripletLoss.DefaultMargin),
            MetricLossKind.Center => new CenterLoss(options.CenterWeight ?? CenterLoss.DefaultCenterWeight, options.CenterUpdateRate ?? CenterLoss.DefaultCenterRate),
            MetricLossKind.SphereFace => new SphereFaceLoss(ToIntegerMargin(options.Margin)),
            MetricLossKind.CosFace => new CosFaceLoss(options.Scale ?? CosFaceLoss.DefaultScale, options.Margin ?? CosFaceLoss.DefaultMargin),
            MetricLossKind.ArcFace => new ArcFaceLoss(options.Scale ?? ArcFaceLoss.DefaultScale, options.Margin ?? ArcFaceLoss.DefaultMargin),
            _ => new NormalizedSoftmaxLoss(options.Scale ?? NormalizedSoftmaxLoss.DefaultScale),
        };
    }

    /// <summary>Returns SphereFace's multiplier m, which must be a whole number.</summary>
    private static int ToIntegerMargin(double? margin)
    {
        if (margin is not { } value)
            return SphereFaceLoss.DefaultMargin;
        if (value != Math.Floor(value) || value < 1 || value > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(margin), value, "The SphereFace margin m multiplies the angle, so it must be a whole number such as 4.");
        return (int)value;
    }
}
