using System.Numerics.Tensors;

namespace MLNetRetrieval.Verification;

/// <summary>Similarity used to score a pair of embeddings. Higher scores always mean more similar.</summary>
public enum PairScoreKind : byte
{
    /// <summary>Cosine similarity x·y / (‖x‖ ‖y‖), in [−1, 1]. A pair with a zero vector scores 0.</summary>
    Cosine = 0,

    /// <summary>Negative squared Euclidean distance −‖x − y‖², in (−∞, 0].</summary>
    NegativeSquaredEuclidean = 1,
}

/// <summary>
/// Scores pairs of embeddings for verification. Every score is "higher = more similar", so a pair
/// is accepted as a match when its score is at or above a threshold.
/// </summary>
public static class PairScorer
{
    /// <summary>Scores one pair.</summary>
    /// <param name="first">The first embedding.</param>
    /// <param name="second">The second embedding, of the same length.</param>
    /// <param name="kind">The similarity.</param>
    /// <returns>The score; see <see cref="PairScoreKind"/> for the range.</returns>
    /// <exception cref="ArgumentException">The lengths differ or <paramref name="kind"/> is unknown.</exception>
    public static float Score(ReadOnlySpan<float> first, ReadOnlySpan<float> second, PairScoreKind kind)
    {
        if (first.Length != second.Length)
            throw new ArgumentException($"The embeddings of a pair have {first.Length} and {second.Length} components. Score embeddings of one size.", nameof(second));
        return ScoreUnchecked(first, second, kind);
    }

    /// <summary>Scores row i of <paramref name="first"/> against row i of <paramref name="second"/>.</summary>
    /// <param name="first">Row-major embeddings, size count * dimension.</param>
    /// <param name="second">Row-major embeddings, size count * dimension.</param>
    /// <param name="dimension">Components per embedding.</param>
    /// <param name="kind">The similarity.</param>
    /// <returns>One score per row, size count.</returns>
    /// <exception cref="ArgumentException">The arrays differ in length, are not a multiple of the dimension, or the dimension is not positive.</exception>
    public static float[] ScoreRows(ReadOnlySpan<float> first, ReadOnlySpan<float> second, int dimension, PairScoreKind kind)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        CheckKind(kind);
        if (first.Length != second.Length)
            throw new ArgumentException($"The two embedding arrays have {first.Length} and {second.Length} values. Pass arrays of equal length, one row per pair.", nameof(second));
        if (first.Length % dimension != 0)
            throw new ArgumentException($"The embedding arrays have {first.Length} values, which is not a multiple of the dimension {dimension}.", nameof(first));

        var scores = new float[first.Length / dimension];
        for (int i = 0; i < scores.Length; i++)
            scores[i] = ScoreUnchecked(first.Slice(i * dimension, dimension), second.Slice(i * dimension, dimension), kind);
        return scores;
    }

    /// <summary>Scores pairs of rows of one embedding array, as produced by <see cref="PairGenerator"/>.</summary>
    /// <param name="vectors">Row-major embeddings, size count * dimension.</param>
    /// <param name="dimension">Components per embedding.</param>
    /// <param name="pairs">Row numbers of each pair.</param>
    /// <param name="kind">The similarity.</param>
    /// <returns>One score per pair, in pair order.</returns>
    /// <exception cref="ArgumentException">The array is not a multiple of the dimension, or a pair names a row outside it.</exception>
    public static float[] ScorePairs(ReadOnlySpan<float> vectors, int dimension, IReadOnlyList<LabeledPair> pairs, PairScoreKind kind)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        CheckKind(kind);
        if (vectors.Length % dimension != 0)
            throw new ArgumentException($"The embedding array has {vectors.Length} values, which is not a multiple of the dimension {dimension}.", nameof(vectors));

        int count = vectors.Length / dimension;
        var scores = new float[pairs.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            LabeledPair pair = pairs[i];
            if ((uint)pair.First >= (uint)count || (uint)pair.Second >= (uint)count)
                throw new ArgumentException($"Pair {i} names rows {pair.First} and {pair.Second}, but the embedding array has rows 0 to {count - 1}.", nameof(pairs));
            scores[i] = ScoreUnchecked(vectors.Slice(pair.First * dimension, dimension), vectors.Slice(pair.Second * dimension, dimension), kind);
        }

        return scores;
    }

    internal static float ScoreUnchecked(ReadOnlySpan<float> first, ReadOnlySpan<float> second, PairScoreKind kind)
    {
        switch (kind)
        {
            case PairScoreKind.Cosine:
                // TensorPrimitives.CosineSimilarity returns NaN for a zero vector; a zero vector has
                // no direction, so score it as orthogonal to everything instead.
                float norms = MathF.Sqrt(TensorPrimitives.SumOfSquares(first)) * MathF.Sqrt(TensorPrimitives.SumOfSquares(second));
                return norms == 0 ? 0f : TensorPrimitives.Dot(first, second) / norms;
            case PairScoreKind.NegativeSquaredEuclidean:
                float distance = TensorPrimitives.Distance(first, second);
                return -(distance * distance);
            default:
                throw UnknownKind(kind);
        }
    }

    internal static void CheckKind(PairScoreKind kind)
    {
        if (!Enum.IsDefined(kind))
            throw UnknownKind(kind);
    }

    private static ArgumentOutOfRangeException UnknownKind(PairScoreKind kind) =>
        new(nameof(kind), kind, $"Unknown pair score kind. Use one of: {string.Join(", ", Enum.GetNames<PairScoreKind>())}.");
}
