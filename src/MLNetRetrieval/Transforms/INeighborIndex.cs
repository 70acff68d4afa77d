namespace MLNetRetrieval.Transforms;

/// <summary>
/// The view of a fitted index that the ML.NET layer needs: search, id lookup and persistence.
/// Each index type of the algorithm layer gets a small adapter that implements it.
/// </summary>
internal interface INeighborIndex
{
    /// <summary>Four-character code that names the index type in a saved model.</summary>
    string Kind { get; }

    /// <summary>Number of components of every vector.</summary>
    int Dimension { get; }

    /// <summary>Number of indexed vectors.</summary>
    int Count { get; }

    /// <summary>Returns the id stored at <paramref name="row"/> (rows count from 0 in insertion order).</summary>
    long GetId(int row);

    /// <summary>Finds the row of <paramref name="id"/>.</summary>
    bool TryGetRow(long id, out int row);

    /// <summary>
    /// Searches <paramref name="queries"/> (n × d, row-major) and writes the k best ids and distances
    /// per query (n × k, row-major) best first. <paramref name="excludedIds"/> is empty or holds one id
    /// per query that must not be returned for that query (−1 for none).
    /// </summary>
    void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances,
        ReadOnlySpan<long> excludedIds, int threads, CancellationToken cancellationToken);

    /// <summary>Writes the index in its versioned binary format.</summary>
    void Save(Stream stream);
}
