namespace MLNetRetrieval.Transforms;

/// <summary>
/// Column and search settings shared by every index estimator: which columns hold the vectors, ids
/// and labels, how many neighbors to return, and the names of the added columns.
/// </summary>
public class NeighborSearchOptions
{
    /// <summary>Default values of <see cref="NeighborSearchOptions"/>.</summary>
    public static class Defaults
    {
        /// <summary>Default name of the vector column.</summary>
        public const string FeatureColumnName = "Features";

        /// <summary>Default name of the added neighbor-id column.</summary>
        public const string NeighborIdsColumnName = "NeighborIds";

        /// <summary>Default name of the added distance column.</summary>
        public const string DistancesColumnName = "Distances";

        /// <summary>Default name of the added neighbor-label column.</summary>
        public const string NeighborLabelsColumnName = "NeighborLabels";

        /// <summary>Default number of neighbors per query.</summary>
        public const int NumberOfNeighbors = 10;

        /// <summary>Largest accepted number of neighbors per query; every scored row allocates k ids and k distances.</summary>
        public const int MaxNumberOfNeighbors = 1 << 20;
    }

    /// <summary>
    /// Vector column in both the collection and the queries: a vector of <see cref="float"/>,
    /// known-size or variable-size with every row of the same length.
    /// </summary>
    public string FeatureColumnName { get; set; } = Defaults.FeatureColumnName;

    /// <summary>
    /// Optional collection column with item ids (an integer type, values ≥ 0 and unique). Without
    /// it, items get their 0-based row number as id.
    /// </summary>
    public string? IdColumnName { get; set; }

    /// <summary>Optional collection column with item labels (text, number, Boolean or key); enables the neighbor-label column.</summary>
    public string? LabelColumnName { get; set; }

    /// <summary>
    /// Optional query column with the query's own id, used by <see cref="ExcludeSelf"/>. Defaults to
    /// <see cref="IdColumnName"/> when <see cref="ExcludeSelf"/> is set.
    /// </summary>
    public string? QueryIdColumnName { get; set; }

    /// <summary>
    /// Number of neighbors returned per query (k), from 1 to <see cref="Defaults.MaxNumberOfNeighbors"/>.
    /// Queries get −1 ids and +∞ distances past the collection size.
    /// </summary>
    public int NumberOfNeighbors { get; set; } = Defaults.NumberOfNeighbors;

    /// <summary>
    /// Leaves each query's own id out of its results (leave-one-out evaluation over the collection
    /// itself). Needs a query id column; see <see cref="QueryIdColumnName"/>.
    /// </summary>
    public bool ExcludeSelf { get; set; }

    /// <summary>Name of the added column with neighbor ids (variable-size vector of Int64, k slots).</summary>
    public string NeighborIdsColumnName { get; set; } = Defaults.NeighborIdsColumnName;

    /// <summary>Name of the added column with distances (variable-size vector of Single, k slots).</summary>
    public string DistancesColumnName { get; set; } = Defaults.DistancesColumnName;

    /// <summary>Name of the added column with neighbor labels (variable-size vector of Text); added only when the collection has labels.</summary>
    public string NeighborLabelsColumnName { get; set; } = Defaults.NeighborLabelsColumnName;

    /// <summary>Worker threads for building the index; 0 uses every core.</summary>
    public int NumberOfThreads { get; set; }

    /// <summary>Optional receiver of progress while the collection is read and indexed.</summary>
    public IProgress<IndexingProgress>? Progress { get; set; }

    /// <summary>Stops fitting early with <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>The query id column in effect: <see cref="QueryIdColumnName"/>, else <see cref="IdColumnName"/> when excluding self.</summary>
    internal string? EffectiveQueryIdColumnName => QueryIdColumnName ?? (ExcludeSelf ? IdColumnName : null);

    internal void Validate()
    {
        CheckName(FeatureColumnName, nameof(FeatureColumnName));
        CheckName(NeighborIdsColumnName, nameof(NeighborIdsColumnName));
        CheckName(DistancesColumnName, nameof(DistancesColumnName));
        CheckName(NeighborLabelsColumnName, nameof(NeighborLabelsColumnName));
        if (NumberOfNeighbors < 1 || NumberOfNeighbors > Defaults.MaxNumberOfNeighbors)
            throw new ArgumentOutOfRangeException(nameof(NumberOfNeighbors), NumberOfNeighbors, $"NumberOfNeighbors (k) must be between 1 and {Defaults.MaxNumberOfNeighbors}.");
        if (NumberOfThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(NumberOfThreads), NumberOfThreads, "NumberOfThreads must be 0 (every core) or positive.");
        if (ExcludeSelf && EffectiveQueryIdColumnName is null)
            throw new ArgumentException("ExcludeSelf needs the queries' ids: set QueryIdColumnName or IdColumnName.", nameof(ExcludeSelf));
        var outputs = new[] { NeighborIdsColumnName, DistancesColumnName, NeighborLabelsColumnName };
        if (outputs.Distinct(StringComparer.Ordinal).Count() != outputs.Length)
            throw new ArgumentException($"The output column names must differ; got '{NeighborIdsColumnName}', '{DistancesColumnName}' and '{NeighborLabelsColumnName}'.");
    }

    private static void CheckName(string? name, string option)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException($"{option} must name a column; got '{name}'.", option);
    }
}

/// <summary>Progress of reading and indexing a collection.</summary>
/// <param name="Phase">What is running: "read" while rows are read, "index" while vectors are added.</param>
/// <param name="Done">Rows finished in this phase.</param>
/// <param name="Total">Rows in this phase, or −1 while unknown.</param>
public readonly record struct IndexingProgress(string Phase, long Done, long Total);
