namespace MLNetRetrieval.Indexes;

/// <summary>Construction settings of an <see cref="HnswIndex"/>.</summary>
/// <remarks>
/// Larger <see cref="Connectivity"/> and <see cref="EfConstruction"/> give a better graph, hence higher recall at a given
/// <see cref="EfSearch"/>, at the price of a slower build; a larger <see cref="Connectivity"/> also costs
/// (2M + 1) × 4 bytes per vector at layer 0.
/// </remarks>
public sealed class HnswOptions
{
    /// <summary>Largest accepted <see cref="Connectivity"/>.</summary>
    public const int MaxConnectivity = 1024;

    /// <summary>
    /// Links per node M on the upper layers, in [2, 1024]; layer 0 keeps up to 2M. Default 16. The level
    /// distribution uses m_L = 1 / ln(M).
    /// </summary>
    public int Connectivity { get; init; } = 16;

    /// <summary>Beam width (efConstruction) of the search that finds a new node's neighbors, ≥ 1. Default 200.</summary>
    public int EfConstruction { get; init; } = 200;

    /// <summary>
    /// Default beam width (efSearch) of a query, ≥ 1; a search uses max(efSearch, k). Default 64. It can be changed
    /// later through <see cref="HnswIndex.EfSearch"/>.
    /// </summary>
    public int EfSearch { get; init; } = 64;

    /// <summary>Seed of the random generator that draws node levels. Default 42.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>
    /// Whether the neighbor selection heuristic fills free link slots with the candidates it pruned, nearest first
    /// (keepPrunedConnections in Algorithm 4 of Malkov and Yashunin, TPAMI 2020). Default false.
    /// </summary>
    public bool KeepPrunedConnections { get; init; }

    /// <summary>Number of vectors to allocate room for up front, ≥ 0. Default 0; storage grows as needed.</summary>
    public int InitialCapacity { get; init; }
}
