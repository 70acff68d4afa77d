namespace MLNetRetrieval.Evaluation;

/// <summary>
/// Ranking of one query ready for scoring: padding and junk are already removed, and each remaining
/// position is marked relevant or not.
/// </summary>
/// <remarks>
/// <see cref="LabelRelevance"/> and <see cref="JudgmentRelevance"/> build these from a
/// <see cref="RankedList"/>. Build one directly when relevance comes from elsewhere.
/// </remarks>
public sealed class JudgedRanking
{
    private readonly bool[] _relevant;
    private readonly float[]? _distances;

    /// <summary>Creates a judged ranking, copying the arrays.</summary>
    /// <param name="queryId">Id of the query, used in reports.</param>
    /// <param name="relevant">Whether the item at each position is relevant, best first.</param>
    /// <param name="distances">Distance at each position, non-decreasing, or empty when not known.</param>
    /// <param name="relevantCount">
    /// Number of relevant items in the whole collection for this query, retrieved or not. It is the
    /// denominator of average precision and the R of MAP@R; 0 excludes the query from the means.
    /// </param>
    /// <param name="removedJunkCount">Number of junk items removed from the ranking, for reports only.</param>
    /// <exception cref="ArgumentException">
    /// A count is negative, <paramref name="relevant"/> marks more items than
    /// <paramref name="relevantCount"/>, or <paramref name="distances"/> has the wrong length, a NaN or a decrease.
    /// </exception>
    public JudgedRanking(long queryId, ReadOnlySpan<bool> relevant, ReadOnlySpan<float> distances, int relevantCount, int removedJunkCount = 0)
        : this(queryId, relevant.ToArray(), distances.IsEmpty ? null : distances.ToArray(), relevantCount, removedJunkCount, validate: true)
    {
    }

    /// <summary>Creates a judged ranking without distances, copying the array.</summary>
    /// <param name="queryId">Id of the query, used in reports.</param>
    /// <param name="relevant">Whether the item at each position is relevant, best first.</param>
    /// <param name="relevantCount">Number of relevant items in the whole collection for this query.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="relevantCount"/> is negative or smaller than the number of relevant positions.
    /// </exception>
    public JudgedRanking(long queryId, ReadOnlySpan<bool> relevant, int relevantCount)
        : this(queryId, relevant.ToArray(), null, relevantCount, 0, validate: true)
    {
    }

    // Takes ownership of the arrays, so builders avoid a second copy of long rankings.
    internal JudgedRanking(long queryId, bool[] relevant, float[]? distances, int relevantCount, int removedJunkCount, bool validate)
    {
        _relevant = relevant;
        _distances = distances;
        QueryId = queryId;
        RelevantCount = relevantCount;
        RemovedJunkCount = removedJunkCount;
        if (validate)
        {
            Validate();
        }
    }

    /// <summary>Id of the query.</summary>
    public long QueryId { get; }

    /// <summary>Number of relevant items in the whole collection for this query.</summary>
    public int RelevantCount { get; }

    /// <summary>Number of junk items removed from the ranking.</summary>
    public int RemovedJunkCount { get; }

    /// <summary>Number of ranked positions.</summary>
    public int Length => _relevant.Length;

    /// <summary>Whether the item at each position is relevant, best first.</summary>
    public ReadOnlySpan<bool> Relevant => _relevant;

    /// <summary>Distance at each position, or empty when distances are not known.</summary>
    public ReadOnlySpan<float> Distances => _distances;

    /// <summary>Whether the ranking carries distances.</summary>
    public bool HasDistances => _distances is not null;

    private void Validate()
    {
        if (RelevantCount < 0)
        {
            throw new ArgumentOutOfRangeException(
                "relevantCount", RelevantCount, $"Query {QueryId}: the number of relevant items must be 0 or more.");
        }

        if (RemovedJunkCount < 0)
        {
            throw new ArgumentOutOfRangeException(
                "removedJunkCount", RemovedJunkCount, $"Query {QueryId}: the number of removed junk items must be 0 or more.");
        }

        int retrievedRelevant = 0;
        foreach (bool isRelevant in _relevant)
        {
            retrievedRelevant += isRelevant ? 1 : 0;
        }

        if (retrievedRelevant > RelevantCount)
        {
            throw new ArgumentException(
                $"Query {QueryId}: the ranking contains {retrievedRelevant} relevant items, but relevantCount is only " +
                $"{RelevantCount}. Count the relevant items over the whole collection, and check " +
                "that the ranking has no duplicate ids.",
                "relevantCount");
        }

        if (_distances is null)
        {
            return;
        }

        if (_distances.Length != _relevant.Length)
        {
            throw new ArgumentException(
                $"Query {QueryId}: the ranking has {_relevant.Length} positions but {_distances.Length} distances.",
                "distances");
        }

        for (int i = 0; i < _distances.Length; i++)
        {
            if (float.IsNaN(_distances[i]))
            {
                throw new ArgumentException($"Query {QueryId}: the distance at position {i} is NaN.", "distances");
            }

            if (i > 0 && _distances[i] < _distances[i - 1])
            {
                throw new ArgumentException(
                    $"Query {QueryId}: distances must be non-decreasing, but position {i} has {_distances[i]} " +
                    $"after {_distances[i - 1]}. Sort the ranking by distance, best first.",
                    "distances");
            }
        }
    }
}
