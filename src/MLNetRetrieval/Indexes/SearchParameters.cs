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

    /// <summary>
    /// Token polled by each worker before every block of about 512 KiB of packed base vectors, that is after at
    /// most 256 queries × that block of distance computations.
    /// </summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Receives the number of queries finished after each block of up to 256 queries. Reports come from
    /// worker threads and can arrive out of order, so the largest <see cref="SearchProgress.QueriesDone"/> seen is the progress.
    /// </summary>
    public IProgress<SearchProgress>? Progress { get; init; }
}

/// <summary>Progress of a search call.</summary>
/// <param name="QueriesDone">Queries whose results are final.</param>
/// <param name="QueryCount">Queries in the call.</param>
public readonly record struct SearchProgress(int QueriesDone, int QueryCount);
