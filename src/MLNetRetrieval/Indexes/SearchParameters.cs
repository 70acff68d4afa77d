namespace MLNetRetrieval.Indexes;

/// <summary>Optional settings of one search call.</summary>
public sealed class SearchParameters
{
    /// <summary>Worker threads; 0 (the default) uses <see cref="Environment.ProcessorCount"/>. Results do not depend on it.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Either empty (the default) or one id per query that the search leaves out for that query, such as the
    /// query's own id in a leave-one-out evaluation; −1 leaves nothing out.
    /// </summary>
    public ReadOnlyMemory<long> ExcludedIds { get; init; }

    /// <summary>Token polled during the search, about once per millisecond of work per thread.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Receives the number of queries finished after each block of queries. Reports can come from
    /// worker threads and out of order; <see cref="SearchProgress.QueriesDone"/> only grows per report sender.
    /// </summary>
    public IProgress<SearchProgress>? Progress { get; init; }
}

/// <summary>Progress of a search call.</summary>
/// <param name="QueriesDone">Queries whose results are final.</param>
/// <param name="QueryCount">Queries in the call.</param>
public readonly record struct SearchProgress(int QueriesDone, int QueryCount);
