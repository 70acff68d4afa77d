namespace MLNetRetrieval.Verification;

/// <summary>One operating point of a ROC curve: every pair scoring at or above the threshold is accepted.</summary>
/// <param name="Threshold">The decision threshold; +∞ for the first point, which accepts nothing.</param>
/// <param name="TrueAccepts">Genuine pairs accepted (score ≥ threshold).</param>
/// <param name="FalseAccepts">Impostor pairs accepted.</param>
/// <param name="FalseAcceptRate">FAR = FalseAccepts / impostor pairs.</param>
/// <param name="TrueAcceptRate">TAR = TrueAccepts / genuine pairs.</param>
public readonly record struct RocPoint(float Threshold, int TrueAccepts, int FalseAccepts, double FalseAcceptRate, double TrueAcceptRate)
{
    /// <summary>FRR = 1 − TAR: the share of genuine pairs rejected.</summary>
    public double FalseRejectRate => 1 - TrueAcceptRate;
}

/// <summary>The operating point chosen for a target false accept rate.</summary>
/// <param name="TargetFalseAcceptRate">The requested FAR.</param>
/// <param name="Threshold">The smallest observed threshold whose FAR ≤ target; +∞ when only "accept nothing" qualifies.</param>
/// <param name="FalseAcceptRate">The FAR actually reached at <paramref name="Threshold"/>; at most the target.</param>
/// <param name="TrueAcceptRate">TAR at <paramref name="Threshold"/>.</param>
/// <param name="BelowResolution">
/// True when the target is below 1 / impostor pairs. The only FAR at or below such a target is 0, so
/// the point reported is the FAR = 0 point, the same for every target in [0, 1/N).
/// </param>
public readonly record struct TarAtFar(double TargetFalseAcceptRate, float Threshold, double FalseAcceptRate, double TrueAcceptRate, bool BelowResolution);

/// <summary>Builds ROC points and reads operating points off them.</summary>
internal static class RocCurve
{
    /// <summary>
    /// Builds the ROC with one point per distinct score, thresholds descending, after a first point at +∞.
    /// </summary>
    /// <param name="positives">Scores of genuine items that can be accepted.</param>
    /// <param name="negatives">Scores of impostor items.</param>
    /// <param name="positiveTotal">
    /// Genuine items in all, at least <paramref name="positives"/>.Length; the rest are never
    /// accepted (identification uses this for mates outside the candidate list).
    /// </param>
    public static RocPoint[] Build(ReadOnlySpan<float> positives, ReadOnlySpan<float> negatives, int positiveTotal)
    {
        int n = positives.Length + negatives.Length;
        var scores = new float[n];
        var genuine = new bool[n];
        positives.CopyTo(scores);
        negatives.CopyTo(scores.AsSpan(positives.Length));
        genuine.AsSpan(0, positives.Length).Fill(true);

        // Sort descending by score; the flags follow their scores.
        var keys = new float[n];
        for (int i = 0; i < n; i++)
            keys[i] = -scores[i];
        Array.Sort(keys, genuine);

        var points = new List<RocPoint>(n + 1) { new(float.PositiveInfinity, 0, 0, 0, 0) };
        int trueAccepts = 0;
        int falseAccepts = 0;
        for (int i = 0; i < n;)
        {
            // Equal scores cross the threshold together: they form one step of the curve.
            float threshold = -keys[i];
            while (i < n && -keys[i] == threshold)
            {
                if (genuine[i])
                    trueAccepts++;
                else
                    falseAccepts++;
                i++;
            }

            points.Add(new RocPoint(threshold, trueAccepts, falseAccepts,
                negatives.Length == 0 ? 0 : (double)falseAccepts / negatives.Length,
                positiveTotal == 0 ? 0 : (double)trueAccepts / positiveTotal));
        }

        return points.ToArray();
    }

    /// <summary>Picks the smallest threshold whose FAR ≤ target, which gives the largest TAR among them.</summary>
    public static TarAtFar AtFalseAcceptRate(IReadOnlyList<RocPoint> points, double target, int negativeCount)
    {
        // FAR never decreases along the points, and the first point has FAR 0, so the last point at
        // or below the target exists and has the smallest qualifying threshold.
        int chosen = 0;
        for (int i = 1; i < points.Count && points[i].FalseAcceptRate <= target; i++)
            chosen = i;
        RocPoint point = points[chosen];
        // Compare in rationals: target < 1 / negatives, with a relative margin so that a target of
        // exactly 1 / negatives (rounded to double) is not taken for one below it.
        bool belowResolution = target * negativeCount < 1 - 1e-9;
        return new TarAtFar(target, point.Threshold, point.FalseAcceptRate, point.TrueAcceptRate, belowResolution);
    }

    /// <summary>
    /// Computes the equal error rate: where FAR and FRR cross, linearly interpolated between the two
    /// neighbouring ROC points.
    /// </summary>
    /// <remarks>
    /// With d = FAR − FRR, which rises from −1 at the first point to +1 at the last, take the first
    /// point j with d_j ≥ 0 and its predecessor i. Both rates move linearly between the points, so they
    /// meet at α = −d_i / (d_j − d_i), where EER = FAR_i + α (FAR_j − FAR_i). The threshold returned is
    /// that of point j.
    /// </remarks>
    public static (double Rate, float Threshold) EqualErrorRate(IReadOnlyList<RocPoint> points)
    {
        for (int j = 1; j < points.Count; j++)
        {
            RocPoint right = points[j];
            double dj = right.FalseAcceptRate - right.FalseRejectRate;
            if (dj < 0)
                continue;

            RocPoint left = points[j - 1];
            double di = left.FalseAcceptRate - left.FalseRejectRate;
            double alpha = -di / (dj - di);
            return (left.FalseAcceptRate + (alpha * (right.FalseAcceptRate - left.FalseAcceptRate)), right.Threshold);
        }

        // Unreachable with both classes present: the last point has FAR 1 and FRR 0.
        throw new InvalidOperationException("The ROC curve has no point where FAR reaches FRR.");
    }

    /// <summary>Integrates TAR over FAR with the trapezoidal rule.</summary>
    public static double Area(IReadOnlyList<RocPoint> points)
    {
        double area = 0;
        for (int i = 1; i < points.Count; i++)
        {
            double width = points[i].FalseAcceptRate - points[i - 1].FalseAcceptRate;
            area += width * (points[i].TrueAcceptRate + points[i - 1].TrueAcceptRate) / 2;
        }

        return area;
    }
}
