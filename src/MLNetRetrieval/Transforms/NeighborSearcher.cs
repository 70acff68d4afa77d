namespace MLNetRetrieval.Transforms;

/// <summary>
/// Direct access to a fitted neighbor search: batch search over arrays, collection labels and their
/// counts. Obtained from <see cref="NeighborSearchingTransformer.Searcher"/> or, for a model loaded
/// from a zip, from <see cref="RetrievalCatalog.GetSearchers(Microsoft.ML.ITransformer)"/>.
/// </summary>
/// <remarks>
/// Batch search here runs many queries per call on several threads. The ML.NET transformer scores
/// one row at a time, so bulk scoring over arrays is faster through this class.
/// </remarks>
public sealed class NeighborSearcher
{
    internal NeighborSearcher(SearchState state) => State = state;

    internal SearchState State { get; }

    /// <summary>Number of indexed vectors.</summary>
    public int Count => State.Index.Count;

    /// <summary>Number of components of every vector.</summary>
    public int Dimension => State.Index.Dimension;

    /// <summary>Number of neighbors returned per query (k).</summary>
    public int NumberOfNeighbors => State.K;

    /// <summary>Whether a query whose id is in the collection leaves itself out of its results.</summary>
    public bool ExcludeSelf => State.ExcludeSelf;

    /// <summary>Distance the index ranks by; see <see cref="Indexes.DistanceMetric"/> for what the returned distances mean.</summary>
    public Indexes.DistanceMetric Metric => State.Index.Metric;

    /// <summary>Four-character code of the index type, such as <c>EXCT</c> for exact search.</summary>
    public string IndexKind => State.Index.Kind;

    /// <summary>Whether the index scans a chosen number of inverted lists per query, so that <see cref="NumberOfProbes"/> applies (IVF indexes).</summary>
    public bool SupportsProbes => State.Index.SupportsProbes;

    /// <summary>
    /// Inverted lists scanned per query (nprobe) by every search that does not set its own: calls of
    /// <see cref="Search(ReadOnlySpan{float}, ReadOnlySpan{long}, Span{long}, Span{float}, int, CancellationToken)"/>
    /// and the rows scored by the ML.NET transformer. More probes raise recall and cost time.
    /// </summary>
    /// <remarks>
    /// For a model loaded from a zip, the searcher from <see cref="RetrievalCatalog.GetSearchers(Microsoft.ML.ITransformer)"/>
    /// shares its index with the loaded model in this process, so setting the value here changes what
    /// the loaded model's <c>Transform</c> returns. A model saved afterwards still stores the value it
    /// was fitted with, because the saved chain contains the state serialized at fit time.
    /// </remarks>
    /// <exception cref="NotSupportedException">The index has no inverted lists (exact and exhaustive PQ search); see <see cref="SupportsProbes"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside [1, nlist].</exception>
    public int NumberOfProbes
    {
        get => State.Index.NumberOfProbes;
        set
        {
            if (!State.Index.SupportsProbes)
                throw NeighborIndexes.ProbesNotSupported(State.Index.Kind);
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value, "NumberOfProbes (nprobe) must be in [1, number of lists].");
            State.Index.NumberOfProbes = value;
        }
    }

    /// <summary>Whether the index searches a graph with a beam of chosen width, so that <see cref="EfSearch"/> applies (HNSW indexes).</summary>
    public bool SupportsEfSearch => State.Index.SupportsEfSearch;

    /// <summary>
    /// Beam width efSearch of the layer-0 graph search, used by every search that does not set its own: calls
    /// of <see cref="Search(ReadOnlySpan{float}, ReadOnlySpan{long}, Span{long}, Span{float}, int, CancellationToken)"/>
    /// and the rows scored by the ML.NET transformer. A search uses max(efSearch, k); a wider beam raises
    /// recall and costs time roughly in proportion.
    /// </summary>
    /// <remarks>
    /// As with <see cref="NumberOfProbes"/>, the searcher of a loaded model shares its index with that model in
    /// this process, so setting the value changes what the loaded model's <c>Transform</c> returns.
    /// </remarks>
    /// <exception cref="NotSupportedException">The index is not a graph index; see <see cref="SupportsEfSearch"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int EfSearch
    {
        get => State.Index.EfSearch;
        set
        {
            if (!State.Index.SupportsEfSearch)
                throw NeighborIndexes.EfSearchNotSupported(State.Index.Kind);
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value, "EfSearch must be at least 1.");
            State.Index.EfSearch = value;
        }
    }

    /// <summary>Whether the collection had a label column.</summary>
    public bool HasLabels => State.Labels is not null;

    /// <summary>Number of collection items per label (empty without labels); the denominators of recall-type metrics.</summary>
    public IReadOnlyDictionary<string, int> LabelCounts => State.LabelCounts;

    /// <summary>Returns the collection id stored at <paramref name="row"/> (0-based insertion order).</summary>
    public long GetId(int row) => State.Index.GetId(row);

    /// <summary>Returns the label of the item with <paramref name="id"/>, or null when the collection has no labels or no such id.</summary>
    public string? GetLabel(long id) =>
        State.Labels is not null && State.Index.TryGetRow(id, out int row) ? State.Labels[row] : null;

    /// <summary>
    /// Searches a batch of queries.
    /// </summary>
    /// <param name="queries">Query vectors, n × <see cref="Dimension"/> floats, row-major.</param>
    /// <param name="queryIds">Empty, or one id per query; with <see cref="ExcludeSelf"/> each query's own id is left out of its results.</param>
    /// <param name="ids">Receives n × <see cref="NumberOfNeighbors"/> ids, best first, padded with −1.</param>
    /// <param name="distances">Receives n × <see cref="NumberOfNeighbors"/> distances, ascending, padded with +∞.</param>
    /// <param name="threads">Worker threads; 0 uses every core.</param>
    /// <param name="cancellationToken">Stops the search early with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public void Search(ReadOnlySpan<float> queries, ReadOnlySpan<long> queryIds, Span<long> ids, Span<float> distances,
        int threads = 0, CancellationToken cancellationToken = default) =>
        Search(queries, queryIds, ids, distances, settings: null, threads, cancellationToken);

    /// <summary>
    /// Searches a batch of queries with per-call settings, such as the number of probes of an IVF index or the beam width of an HNSW index.
    /// </summary>
    /// <param name="queries">Query vectors, n × <see cref="Dimension"/> floats, row-major.</param>
    /// <param name="queryIds">Empty, or one id per query; with <see cref="ExcludeSelf"/> each query's own id is left out of its results.</param>
    /// <param name="ids">Receives n × <see cref="NumberOfNeighbors"/> ids, best first, padded with −1.</param>
    /// <param name="distances">Receives n × <see cref="NumberOfNeighbors"/> distances, ascending, padded with +∞.</param>
    /// <param name="settings">Settings of this call only; null uses the searcher's own (<see cref="NumberOfProbes"/>, <see cref="EfSearch"/>).</param>
    /// <param name="threads">Worker threads; 0 uses every core.</param>
    /// <param name="cancellationToken">Stops the search early with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length or a setting is out of range.</exception>
    /// <exception cref="NotSupportedException">The settings set a number of probes for an index without inverted lists, or a beam width for an index that is not a graph.</exception>
    public void Search(ReadOnlySpan<float> queries, ReadOnlySpan<long> queryIds, Span<long> ids, Span<float> distances,
        NeighborSearchSettings? settings, int threads = 0, CancellationToken cancellationToken = default)
    {
        int probes = settings?.NumberOfProbes ?? 0;
        if (settings?.NumberOfProbes is { } requested)
        {
            if (!State.Index.SupportsProbes)
                throw NeighborIndexes.ProbesNotSupported(State.Index.Kind);
            if (requested < 1)
                throw new ArgumentOutOfRangeException(nameof(settings), requested, "NeighborSearchSettings.NumberOfProbes (nprobe) must be in [1, number of lists], or null for the searcher's own value.");
        }

        int efSearch = settings?.EfSearch ?? 0;
        if (settings?.EfSearch is { } requestedEf)
        {
            if (!State.Index.SupportsEfSearch)
                throw NeighborIndexes.EfSearchNotSupported(State.Index.Kind);
            if (requestedEf < 1)
                throw new ArgumentOutOfRangeException(nameof(settings), requestedEf, "NeighborSearchSettings.EfSearch must be at least 1, or null for the searcher's own value.");
        }

        int d = Dimension;
        if (queries.Length % d != 0)
            throw new ArgumentException($"The query buffer has {queries.Length} floats, which is not a multiple of the dimension {d}.", nameof(queries));
        int n = queries.Length / d;
        long expected = (long)n * NumberOfNeighbors;
        if (!queryIds.IsEmpty && queryIds.Length != n)
            throw new ArgumentException($"Got {queryIds.Length} query ids for {n} queries; pass none or one per query.", nameof(queryIds));
        if (ids.Length != expected)
            throw new ArgumentException($"The ids buffer has {ids.Length} entries; {n} queries × k = {NumberOfNeighbors} need {expected}.", nameof(ids));
        if (distances.Length != expected)
            throw new ArgumentException($"The distances buffer has {distances.Length} entries; {n} queries × k = {NumberOfNeighbors} need {expected}.", nameof(distances));
        if (threads < 0)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "Threads must be 0 (every core) or positive.");

        ReadOnlySpan<long> excluded = ExcludeSelf ? queryIds : ReadOnlySpan<long>.Empty;
        State.Index.Search(queries, NumberOfNeighbors, ids, distances, excluded, threads, probes, efSearch, cancellationToken);
    }
}

/// <summary>Settings of one <see cref="NeighborSearcher"/> search call that override the searcher's own.</summary>
public sealed class NeighborSearchSettings
{
    /// <summary>
    /// Inverted lists scanned per query (nprobe), at least 1; null uses <see cref="NeighborSearcher.NumberOfProbes"/>.
    /// Only IVF indexes accept it, in [1, nlist].
    /// </summary>
    public int? NumberOfProbes { get; init; }

    /// <summary>
    /// Beam width efSearch of the graph search, at least 1; null uses <see cref="NeighborSearcher.EfSearch"/>.
    /// Only HNSW indexes accept it.
    /// </summary>
    public int? EfSearch { get; init; }
}
