namespace MLNetRetrieval.Indexes;

/// <summary>Optional settings of one <see cref="IvfFlatIndex"/> or <see cref="IvfPqIndex"/> search call.</summary>
public sealed class IvfSearchParameters
{
    /// <summary>Worker threads; 0 (the default) uses <see cref="Environment.ProcessorCount"/>. Results do not depend on it.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Either empty (the default) or one id per query that the search leaves out for that query, such as the
    /// query's own id in a leave-one-out evaluation; −1 leaves nothing out.
    /// </summary>
    public ReadOnlyMemory<long> ExcludedIds { get; init; }

    /// <summary>Token polled before each inverted list that a worker scans.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Receives the number of queries finished after each block of queries. Reports come from worker threads and can
    /// arrive out of order, so the largest <see cref="SearchProgress.QueriesDone"/> seen is the progress.
    /// </summary>
    public IProgress<SearchProgress>? Progress { get; init; }

    /// <summary>
    /// Inverted lists scanned per query (nprobe), in [1, NumberOfLists]; 0 (the default) uses the index's
    /// <c>DefaultNumberOfProbes</c>. More probes raise recall and cost time roughly in proportion.
    /// </summary>
    public int NumberOfProbes { get; init; }

    /// <summary>
    /// <see cref="IvfPqIndex"/> only: when positive, the best <c>RerankCount</c> candidates by approximate (ADC)
    /// distance are re-ranked by their exact squared distance to the stored raw vectors, and the exact distances
    /// are returned. Must be 0 (off, the default) or at least k, and needs an index built with
    /// <see cref="IvfPqIndex.StoreVectorsForReranking"/>. <see cref="IvfFlatIndex"/> ignores it.
    /// </summary>
    public int RerankCount { get; init; }
}
