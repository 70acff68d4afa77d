namespace MLNetRetrieval.Verification;

/// <summary>
/// Evaluates 1:1 verification from labelled pair scores: ROC, TAR at fixed FAR, EER, AUC and the
/// k-fold best-threshold accuracy.
/// </summary>
/// <remarks>
/// <para>
/// Scores are "higher = more similar" and a pair is accepted when score ≥ threshold. With P genuine
/// and N impostor pairs, TAR(t) = #{genuine ≥ t} / P, FAR(t) = #{impostor ≥ t} / N, FRR = 1 − TAR.
/// </para>
/// <list type="bullet">
/// <item>ROC: one point per distinct score, thresholds descending, after a first point at +∞ with
/// FAR = TAR = 0. Equal scores are one step: they are accepted together.</item>
/// <item>TAR@FAR: no interpolation. The threshold is the smallest ROC threshold whose FAR ≤ target,
/// and TAR is read at it. A target below 1/N can only be met by FAR = 0, so it reports the FAR = 0
/// point and sets <see cref="TarAtFar.BelowResolution"/>.</item>
/// <item>EER: FAR and FRR interpolated linearly between the two ROC points where FAR − FRR changes
/// sign; see <see cref="VerificationReport.EqualErrorRate"/>.</item>
/// <item>AUC: trapezoidal area under TAR over FAR, which equals the Mann–Whitney statistic
/// P(genuine score &gt; impostor score) + ½ P(equal).</item>
/// <item>Accuracy: the k-fold best-threshold protocol of LFW; see <see cref="CrossValidatedAccuracy"/>.</item>
/// </list>
/// </remarks>
public static class VerificationEvaluator
{
    /// <summary>Evaluates pair scores with one ground-truth flag per pair.</summary>
    /// <param name="scores">One score per pair, finite.</param>
    /// <param name="isSame">True for a genuine (same-identity) pair, same length as <paramref name="scores"/>.</param>
    /// <param name="options">FAR targets and fold settings; null uses the defaults.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentException">
    /// The lengths differ, a score is NaN or infinite, a class of pairs is empty, or an option is invalid.
    /// </exception>
    public static VerificationReport Evaluate(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isSame, VerificationEvaluatorOptions? options = null)
    {
        options ??= new VerificationEvaluatorOptions();
        var (positives, negatives) = Split(scores, isSame);
        options.Validate(scores.Length);

        RocPoint[] roc = RocCurve.Build(positives, negatives, positives.Length);
        var tarAtFar = new TarAtFar[options.FalseAcceptRates.Count];
        for (int i = 0; i < tarAtFar.Length; i++)
            tarAtFar[i] = RocCurve.AtFalseAcceptRate(roc, options.FalseAcceptRates[i], negatives.Length);
        var (eer, eerThreshold) = RocCurve.EqualErrorRate(roc);
        double auc = RocCurve.Area(roc);
        CrossValidatedAccuracy? accuracy = options.FoldCount == 0
            ? null
            : KFoldAccuracy.Run(scores, isSame, options.FoldCount, options.FoldAssignment, options.Seed);

        return new VerificationReport(positives.Length, negatives.Length, roc, tarAtFar, eer, eerThreshold, auc, accuracy);
    }

    /// <summary>Evaluates pair scores with the ground truth of the pairs they were computed from.</summary>
    /// <param name="scores">One score per pair, in pair order.</param>
    /// <param name="pairs">The pairs, for their <see cref="LabeledPair.IsSame"/> flags.</param>
    /// <param name="options">FAR targets and fold settings; null uses the defaults.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentException">See <see cref="Evaluate(ReadOnlySpan{float}, ReadOnlySpan{bool}, VerificationEvaluatorOptions?)"/>.</exception>
    public static VerificationReport Evaluate(ReadOnlySpan<float> scores, IReadOnlyList<LabeledPair> pairs, VerificationEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var isSame = new bool[pairs.Count];
        for (int i = 0; i < isSame.Length; i++)
            isSame[i] = pairs[i].IsSame;
        return Evaluate(scores, isSame, options);
    }

    /// <summary>Splits scores into genuine and impostor scores after checking them.</summary>
    internal static (float[] Positives, float[] Negatives) Split(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isSame)
    {
        if (scores.Length != isSame.Length)
            throw new ArgumentException($"There are {scores.Length} scores but {isSame.Length} ground-truth flags. Pass one flag per score.", nameof(isSame));

        var positives = new List<float>();
        var negatives = new List<float>();
        for (int i = 0; i < scores.Length; i++)
        {
            if (!float.IsFinite(scores[i]))
                throw new ArgumentException($"Score {i} is {scores[i]}; scores must be finite.", nameof(scores));
            (isSame[i] ? positives : negatives).Add(scores[i]);
        }

        if (positives.Count == 0 || negatives.Count == 0)
            throw new ArgumentException($"Verification needs both genuine and impostor pairs, but got {positives.Count} genuine and {negatives.Count} impostor pairs.", nameof(isSame));
        return (positives.ToArray(), negatives.ToArray());
    }
}

/// <summary>Chooses decision thresholds for a target false accept rate.</summary>
public static class ThresholdCalibrator
{
    /// <summary>
    /// Returns the operating point for <paramref name="targetFalseAcceptRate"/> on a calibration set:
    /// the smallest observed threshold whose FAR ≤ target, as in <see cref="VerificationEvaluator"/>.
    /// </summary>
    /// <param name="scores">Calibration pair scores, finite.</param>
    /// <param name="isSame">True for a genuine pair, one per score.</param>
    /// <param name="targetFalseAcceptRate">The FAR to stay at or below, in (0, 1].</param>
    /// <returns>The threshold with the FAR and TAR it gives on the calibration set.</returns>
    /// <exception cref="ArgumentException">The inputs are invalid as for the evaluator, or the target is outside (0, 1].</exception>
    public static TarAtFar ForFalseAcceptRate(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isSame, double targetFalseAcceptRate)
    {
        if (!(targetFalseAcceptRate > 0 && targetFalseAcceptRate <= 1))
            throw new ArgumentOutOfRangeException(nameof(targetFalseAcceptRate), targetFalseAcceptRate, "The FAR target must be in (0, 1].");
        var (positives, negatives) = VerificationEvaluator.Split(scores, isSame);
        RocPoint[] roc = RocCurve.Build(positives, negatives, positives.Length);
        return RocCurve.AtFalseAcceptRate(roc, targetFalseAcceptRate, negatives.Length);
    }
}
