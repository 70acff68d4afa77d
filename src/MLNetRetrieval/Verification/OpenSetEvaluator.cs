namespace MLNetRetrieval.Verification;

/// <summary>Settings of <see cref="OpenSetEvaluator"/>.</summary>
public sealed class OpenSetEvaluatorOptions
{
    /// <summary>Rank R: a mate counts as identified when it is among the first R candidates; 1 by default.</summary>
    public int Rank { get; set; } = 1;

    /// <summary>FPIR targets of the DIR@FPIR table, each in (0, 1]; 1e-1, 1e-2 and 1e-3 by default.</summary>
    public IReadOnlyList<double> FalsePositiveIdentificationRates { get; set; } = [1e-1, 1e-2, 1e-3];

    /// <summary>Optional decision threshold on similarity; when set, the report has the operating point at it.</summary>
    public float? DecisionThreshold { get; set; }
}

/// <summary>An open-set operating point: candidates with similarity ≥ threshold are returned.</summary>
/// <param name="Threshold">The similarity threshold T.</param>
/// <param name="FalsePositiveIdentificationRate">FPIR(T): share of non-mated probes with a candidate at or above T.</param>
/// <param name="DetectionAndIdentificationRate">DIR(T, R): share of mated probes whose mate is within rank R and at or above T.</param>
/// <param name="BelowResolution">True when the point was chosen for an FPIR target below 1 / non-mated probes, so FPIR = 0 was the only choice.</param>
public readonly record struct OpenSetOperatingPoint(float Threshold, double FalsePositiveIdentificationRate, double DetectionAndIdentificationRate, bool BelowResolution)
{
    /// <summary>FNIR(T, R) = 1 − DIR(T, R): share of mated probes whose mate is missed.</summary>
    public double FalseNegativeIdentificationRate => 1 - DetectionAndIdentificationRate;
}

/// <summary>DIR and FNIR at a target FPIR.</summary>
/// <param name="TargetFalsePositiveIdentificationRate">The requested FPIR.</param>
/// <param name="Point">The operating point: the smallest threshold whose FPIR ≤ target.</param>
public readonly record struct DirAtFpir(double TargetFalsePositiveIdentificationRate, OpenSetOperatingPoint Point);

/// <summary>Result of <see cref="OpenSetEvaluator.Evaluate"/>.</summary>
/// <param name="MatedProbeCount">Probes whose identity is enrolled.</param>
/// <param name="NonMatedProbeCount">Probes whose identity is not enrolled.</param>
/// <param name="Rank">The rank R of the DIR and FNIR values.</param>
/// <param name="RankOneIdentificationRate">Closed-set rank-1 identification rate over the mated probes.</param>
/// <param name="IdentificationRateAtRank">Closed-set rank-R identification rate (no threshold) over the mated probes.</param>
/// <param name="AtFalsePositiveIdentificationRate">One operating point per FPIR target, in option order.</param>
/// <param name="AtDecisionThreshold">The operating point at the decision threshold, or null when none was given.</param>
public sealed record OpenSetReport(
    int MatedProbeCount,
    int NonMatedProbeCount,
    int Rank,
    double RankOneIdentificationRate,
    double IdentificationRateAtRank,
    IReadOnlyList<DirAtFpir> AtFalsePositiveIdentificationRate,
    OpenSetOperatingPoint? AtDecisionThreshold);

/// <summary>
/// Evaluates open-set (watch-list) identification: probes whose identity is enrolled (mated) and
/// probes whose identity is not (non-mated) search a gallery.
/// </summary>
/// <remarks>
/// <para>
/// Definitions follow ISO/IEC 19795-1:2006 and the NIST FRVT 1:N reports (Grother, Ngan and Hanaoka,
/// NISTIR 8271, 2019), with similarity s and threshold T, a candidate being returned when s ≥ T:
/// </para>
/// <list type="bullet">
/// <item>Rank-R identification rate (closed set) = #{mated probes whose mate is among the first R candidates} / #mated.</item>
/// <item>DIR(T, R) = #{mated probes whose mate is among the first R candidates with s ≥ T} / #mated.</item>
/// <item>FNIR(T, R) = 1 − DIR(T, R).</item>
/// <item>FPIR(T) = #{non-mated probes whose first candidate has s ≥ T} / #non-mated, the false alarm
/// rate of the watch list; it plays the role of FAR in verification.</item>
/// </list>
/// <para>
/// DIR at a target FPIR uses the rule of TAR@FAR: the smallest observed threshold whose FPIR ≤ target,
/// without interpolation; a target below 1 / #non-mated gives the FPIR = 0 point. Observed thresholds
/// are the mates' similarities within rank R and the non-mated probes' first similarities.
/// </para>
/// </remarks>
public static class OpenSetEvaluator
{
    /// <summary>Searches the gallery with every probe and computes the open-set metrics.</summary>
    /// <param name="gallery">The enrolled identities.</param>
    /// <param name="probes">Row-major probe embeddings, size probeCount * dimension.</param>
    /// <param name="probeIdentities">Identity of each probe; an identity not in the gallery makes the probe non-mated.</param>
    /// <param name="options">Rank, FPIR targets and decision threshold; null uses the defaults.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentException">
    /// The sizes disagree, there is no mated or no non-mated probe, or an option is invalid.
    /// </exception>
    public static OpenSetReport Evaluate(IdentificationGallery gallery, ReadOnlySpan<float> probes, IReadOnlyList<string> probeIdentities, OpenSetEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        ArgumentNullException.ThrowIfNull(probeIdentities);
        options ??= new OpenSetEvaluatorOptions();
        Validate(options);
        if (probes.Length != checked(probeIdentities.Count * gallery.Dimension))
            throw new ArgumentException($"There are {probeIdentities.Count} probe identities but {probes.Length} values; expected {probeIdentities.Count} × {gallery.Dimension}.", nameof(probes));

        IdentificationCandidate[][] results = gallery.Identify(probes, Math.Max(options.Rank, 1));
        var matedScores = new List<float>();
        var nonMatedScores = new List<float>();
        int mated = 0;
        int rankOneHits = 0;
        for (int p = 0; p < results.Length; p++)
        {
            string identity = probeIdentities[p] ?? throw new ArgumentException($"Identity of probe {p} is null.", nameof(probeIdentities));
            IdentificationCandidate[] candidates = results[p];
            if (!gallery.Contains(identity))
            {
                nonMatedScores.Add(candidates[0].Similarity);
                continue;
            }

            mated++;
            if (candidates[0].Identity == identity)
                rankOneHits++;
            int mateRank = Array.FindIndex(candidates, c => c.Identity == identity);
            if (mateRank >= 0)
                matedScores.Add(candidates[mateRank].Similarity);
        }

        int nonMated = nonMatedScores.Count;
        if (mated == 0 || nonMated == 0)
            throw new ArgumentException($"Open-set evaluation needs mated and non-mated probes, but got {mated} mated and {nonMated} non-mated.", nameof(probeIdentities));

        // Mates outside the first R candidates count in the denominator but are never detected.
        RocPoint[] curve = RocCurve.Build(matedScores.ToArray(), nonMatedScores.ToArray(), mated);
        var atRates = new DirAtFpir[options.FalsePositiveIdentificationRates.Count];
        for (int i = 0; i < atRates.Length; i++)
        {
            TarAtFar point = RocCurve.AtFalseAcceptRate(curve, options.FalsePositiveIdentificationRates[i], nonMated);
            atRates[i] = new DirAtFpir(point.TargetFalseAcceptRate,
                new OpenSetOperatingPoint(point.Threshold, point.FalseAcceptRate, point.TrueAcceptRate, point.BelowResolution));
        }

        OpenSetOperatingPoint? atThreshold = null;
        if (options.DecisionThreshold is float threshold)
        {
            int detected = matedScores.Count(s => s >= threshold);
            int falseAlarms = nonMatedScores.Count(s => s >= threshold);
            atThreshold = new OpenSetOperatingPoint(threshold, (double)falseAlarms / nonMated, (double)detected / mated, BelowResolution: false);
        }

        return new OpenSetReport(mated, nonMated, options.Rank, (double)rankOneHits / mated, (double)matedScores.Count / mated, atRates, atThreshold);
    }

    private static void Validate(OpenSetEvaluatorOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Rank, nameof(options.Rank));
        ArgumentNullException.ThrowIfNull(options.FalsePositiveIdentificationRates, nameof(options.FalsePositiveIdentificationRates));
        foreach (double rate in options.FalsePositiveIdentificationRates)
        {
            if (!(rate > 0 && rate <= 1))
                throw new ArgumentOutOfRangeException(nameof(options.FalsePositiveIdentificationRates), rate, "Every FPIR target must be in (0, 1].");
        }

        if (options.DecisionThreshold is float threshold && float.IsNaN(threshold))
            throw new ArgumentOutOfRangeException(nameof(options.DecisionThreshold), threshold, "The decision threshold must not be NaN.");
    }
}
