namespace MLNetRetrieval.Transforms;

/// <summary>
/// The view of a fitted index that the ML.NET layer needs: search, id lookup and persistence.
/// Each index type of the algorithm layer gets a small adapter that implements it.
/// </summary>
internal interface INeighborIndex
{
    /// <summary>Four-character code that names the index type in a saved model.</summary>
    string Kind { get; }

    /// <summary>Distance the index ranks by.</summary>
    Indexes.DistanceMetric Metric { get; }

    /// <summary>Number of components of every vector.</summary>
    int Dimension { get; }

    /// <summary>Number of indexed vectors.</summary>
    int Count { get; }

    /// <summary>Returns the id stored at <paramref name="row"/> (rows count from 0 in insertion order).</summary>
    long GetId(int row);

    /// <summary>Finds the row of <paramref name="id"/>.</summary>
    bool TryGetRow(long id, out int row);

    /// <summary>Whether the index scans a chosen number of inverted lists per query (IVF), so that <see cref="NumberOfProbes"/> applies.</summary>
    bool SupportsProbes => false;

    /// <summary>
    /// Inverted lists scanned per query when a search passes 0 probes (nprobe). Only valid when
    /// <see cref="SupportsProbes"/> is true; other indexes throw <see cref="NotSupportedException"/>.
    /// </summary>
    int NumberOfProbes
    {
        get => throw NeighborIndexes.ProbesNotSupported(Kind);
        set => throw NeighborIndexes.ProbesNotSupported(Kind);
    }

    /// <summary>
    /// Searches <paramref name="queries"/> (n × d, row-major) and writes the k best ids and distances
    /// per query (n × k, row-major) best first. <paramref name="excludedIds"/> is empty or has one id
    /// per query that must not be returned for that query (−1 for none). <paramref name="numberOfProbes"/>
    /// is 0 for <see cref="NumberOfProbes"/>, or the lists to scan in this call (IVF indexes only).
    /// </summary>
    void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances,
        ReadOnlySpan<long> excludedIds, int threads, int numberOfProbes, CancellationToken cancellationToken);

    /// <summary>Whether the index searches a graph with a beam of chosen width (HNSW), so that <see cref="EfSearch"/> applies.</summary>
    bool SupportsEfSearch => false;

    /// <summary>
    /// Beam width efSearch of a query when a search passes 0. Only valid when <see cref="SupportsEfSearch"/>
    /// is true; other indexes throw <see cref="NotSupportedException"/>.
    /// </summary>
    int EfSearch
    {
        get => throw NeighborIndexes.EfSearchNotSupported(Kind);
        set => throw NeighborIndexes.EfSearchNotSupported(Kind);
    }

    /// <summary>
    /// Searches like the overload with probes; <paramref name="efSearch"/> is 0 for <see cref="EfSearch"/>,
    /// or the beam width of this call (HNSW indexes only).
    /// </summary>
    void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances,
        ReadOnlySpan<long> excludedIds, int threads, int numberOfProbes, int efSearch, CancellationToken cancellationToken)
    {
        if (efSearch != 0)
            throw NeighborIndexes.EfSearchNotSupported(Kind);
        Search(queries, k, ids, distances, excludedIds, threads, numberOfProbes, cancellationToken);
    }

    /// <summary>Searches with the index's own <see cref="NumberOfProbes"/> where it has one.</summary>
    void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances,
        ReadOnlySpan<long> excludedIds, int threads, CancellationToken cancellationToken) =>
        Search(queries, k, ids, distances, excludedIds, threads, numberOfProbes: 0, cancellationToken);

    /// <summary>Writes the index in its versioned binary format.</summary>
    void Save(Stream stream);
}
