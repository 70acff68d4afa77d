namespace MLNetRetrieval.Evaluation;

/// <summary>How <see cref="RankingEvaluator"/> scores items with equal distances.</summary>
public enum TieHandling : byte
{
    /// <summary>
    /// Score the ranking in the order given. The project's indexes order equal distances by lower id,
    /// so results are reproducible but depend on how ids were assigned.
    /// </summary>
    AsRanked = 0,

    /// <summary>
    /// Score each metric as its expected value over all orderings of every group of equal distances
    /// (McSherry and Najork, "Computing Information Retrieval Performance Measures Efficiently in the
    /// Presence of Tied Scores", ECIR 2008). Needs distances on every non-empty ranking.
    /// </summary>
    Average = 1,
}

/// <summary>What <see cref="RankingEvaluator"/> does when a ranking has fewer than R positions for MAP@R.</summary>
public enum ShortRankingHandling : byte
{
    /// <summary>
    /// Score the missing positions as non-relevant, so MAP@R is penalised exactly as if the ranking were
    /// padded with misses, and count the query in <see cref="RankingReport.ShortRankingCount"/>.
    /// </summary>
    ScoreMissingAsNonRelevant = 0,

    /// <summary>Throw an <see cref="ArgumentException"/> naming the query.</summary>
    Reject = 1,
}

/// <summary>Settings of <see cref="RankingEvaluator.Evaluate"/>.</summary>
public sealed class RankingEvaluatorOptions
{
    /// <summary>
    /// Cutoffs K of Recall@K (written Recall@R in some papers; unrelated to the R of MAP@R).
    /// Each must be at least 1. Default: 1, 10, 100.
    /// </summary>
    public IReadOnlyList<int> RecallCutoffs { get; init; } = [1, 10, 100];

    /// <summary>Cutoffs k of precision@k. Each must be at least 1. Default: 1, 10.</summary>
    public IReadOnlyList<int> PrecisionCutoffs { get; init; } = [1, 10];

    /// <summary>How equal distances are scored. Default: <see cref="TieHandling.AsRanked"/>.</summary>
    public TieHandling TieHandling { get; init; } = TieHandling.AsRanked;

    /// <summary>
    /// What happens when a ranking is shorter than R for MAP@R.
    /// Default: <see cref="ShortRankingHandling.ScoreMissingAsNonRelevant"/>.
    /// </summary>
    public ShortRankingHandling ShortRankingForMapAtR { get; init; } = ShortRankingHandling.ScoreMissingAsNonRelevant;

    internal void Validate()
    {
        ValidateCutoffs(RecallCutoffs, nameof(RecallCutoffs));
        ValidateCutoffs(PrecisionCutoffs, nameof(PrecisionCutoffs));
        if (!Enum.IsDefined(TieHandling))
        {
            throw new ArgumentOutOfRangeException(nameof(TieHandling), TieHandling, "Use AsRanked or Average.");
        }

        if (!Enum.IsDefined(ShortRankingForMapAtR))
        {
            throw new ArgumentOutOfRangeException(
                nameof(ShortRankingForMapAtR), ShortRankingForMapAtR, "Use ScoreMissingAsNonRelevant or Reject.");
        }
    }

    private static void ValidateCutoffs(IReadOnlyList<int> cutoffs, string name)
    {
        if (cutoffs is null)
        {
            throw new ArgumentNullException(name, "Pass an empty list to skip this metric.");
        }

        foreach (int cutoff in cutoffs)
        {
            if (cutoff < 1)
            {
                throw new ArgumentOutOfRangeException(name, cutoff, "Every cutoff must be at least 1.");
            }
        }
    }
}
