namespace MLNetRetrieval.Verification;

/// <summary>How the k-fold accuracy protocol splits the pairs into folds.</summary>
public enum FoldAssignment : byte
{
    /// <summary>Fold f contains pairs [f·n/k, (f+1)·n/k) in input order, as in the LFW pairs file.</summary>
    Contiguous = 0,

    /// <summary>The pairs are shuffled with <see cref="VerificationEvaluatorOptions.Seed"/>, then split contiguously.</summary>
    Shuffled = 1,
}

/// <summary>Settings of <see cref="VerificationEvaluator"/>.</summary>
public sealed class VerificationEvaluatorOptions
{
    /// <summary>The FAR targets of the TAR@FAR table, each in (0, 1]; 1e-1 down to 1e-6 by default.</summary>
    public IReadOnlyList<double> FalseAcceptRates { get; set; } = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6];

    /// <summary>Folds of the best-threshold accuracy protocol; 10 by default, 0 to skip it, otherwise at least 2.</summary>
    public int FoldCount { get; set; } = 10;

    /// <summary>How pairs are split into folds; <see cref="FoldAssignment.Contiguous"/> by default.</summary>
    public FoldAssignment FoldAssignment { get; set; } = FoldAssignment.Contiguous;

    /// <summary>Seed of the shuffle under <see cref="FoldAssignment.Shuffled"/>.</summary>
    public int Seed { get; set; } = 1;

    internal void Validate(int pairCount)
    {
        ArgumentNullException.ThrowIfNull(FalseAcceptRates, nameof(FalseAcceptRates));
        foreach (double rate in FalseAcceptRates)
        {
            if (!(rate > 0 && rate <= 1))
                throw new ArgumentOutOfRangeException(nameof(FalseAcceptRates), rate, "Every FAR target must be in (0, 1].");
        }

        if (FoldCount != 0 && (FoldCount < 2 || FoldCount > pairCount))
            throw new ArgumentOutOfRangeException(nameof(FoldCount), FoldCount, $"FoldCount must be 0 (skip) or from 2 to the number of pairs ({pairCount}).");
        if (!Enum.IsDefined(FoldAssignment))
            throw new ArgumentOutOfRangeException(nameof(FoldAssignment), FoldAssignment, $"Unknown fold assignment. Use one of: {string.Join(", ", Enum.GetNames<FoldAssignment>())}.");
    }
}
