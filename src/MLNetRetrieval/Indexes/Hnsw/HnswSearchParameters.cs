namespace MLNetRetrieval.Indexes;

/// <summary>Optional settings of one <see cref="HnswIndex"/> search call.</summary>
public sealed class HnswSearchParameters
{
    /// <summary>Worker threads; 0 (the default) uses <see cref="Environment.ProcessorCount"/>. Results do not depend on it.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Beam width ef of the layer-0 search, ≥ 0; 0 (the default) uses <see cref="HnswIndex.EfSearch"/>. The search uses
    /// max(ef, k). A wider beam raises recall and costs time roughly in proportion.
    /// </summary>
    public int EfSearch { get; init; }

    /// <summary>
    /// Either empty (the default) or one id per query that the search leaves out for that query, such as the
    /// query's own id in a leave-one-out evaluation; −1 leaves nothing out.
    /// </summary>
    public ReadOnlyMemory<long> ExcludedIds { get; init; }

    /// <summary>
    /// Predicate on ids: results include only ids for which it returns true. Nodes it rejects are still traversed, so
    /// a selective filter makes the search visit more of the graph (all of it when nothing passes). It is called from
    /// the worker threads, possibly concurrently, and must not change the index.
    /// </summary>
    public Func<long, bool>? Filter { get; init; }

    /// <summary>Token polled before each query.</summary>
    public CancellationToken CancellationToken { get; init; }
}
