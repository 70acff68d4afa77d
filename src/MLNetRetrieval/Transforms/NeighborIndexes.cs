using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Transforms;

/// <summary>Maps the four-character index kinds stored in a model to their loaders.</summary>
internal static class NeighborIndexes
{
    private static readonly string KnownKinds = string.Join(", ", ExactIndexAdapter.KindCode, PqIndexAdapter.KindCode, IvfFlatIndexAdapter.KindCode, IvfPqIndexAdapter.KindCode, HnswIndexAdapter.KindCode);

    public static INeighborIndex Load(string kind, Stream stream) => kind switch
    {
        ExactIndexAdapter.KindCode => new ExactIndexAdapter(ExactIndex.Load(stream)),
        PqIndexAdapter.KindCode => new PqIndexAdapter(PqIndex.Load(stream)),
        IvfFlatIndexAdapter.KindCode => IvfFlatIndexAdapter.Load(stream),
        IvfPqIndexAdapter.KindCode => IvfPqIndexAdapter.Load(stream),
        HnswIndexAdapter.KindCode => HnswIndexAdapter.Load(stream),
        _ => throw new InvalidDataException($"The model's retrieval state names index kind '{kind}', which this MLNetRetrieval version does not know. Known kinds: {KnownKinds}. Upgrade MLNetRetrieval."),
    };

    /// <summary>Builds the search parameters shared by every adapter.</summary>
    public static SearchParameters CreateParameters(ReadOnlySpan<long> excludedIds, int threads, CancellationToken cancellationToken) => new()
    {
        Threads = threads,
        ExcludedIds = excludedIds.IsEmpty ? ReadOnlyMemory<long>.Empty : excludedIds.ToArray(),
        CancellationToken = cancellationToken,
    };

    /// <summary>Rejects a probe count for an index that scans every vector.</summary>
    public static void CheckNoProbes(string kind, int numberOfProbes)
    {
        if (numberOfProbes != 0)
            throw ProbesNotSupported(kind);
    }

    public static NotSupportedException EfSearchNotSupported(string kind) =>
        new($"The index kind '{kind}' is not a graph index, so the search beam width (efSearch) does not apply. Only HNSW indexes (IndexHnsw) take it.");

    public static NotSupportedException ProbesNotSupported(string kind) =>
        new($"The index kind '{kind}' has no inverted lists, so the number of probes (nprobe) does not apply. Only IVF indexes (IndexIvfFlat, IndexIvfPq) take it.");
}

/// <summary>Exposes an <see cref="ExactIndex"/> to the ML.NET layer.</summary>
internal sealed class ExactIndexAdapter : INeighborIndex
{
    public const string KindCode = "EXCT";

    public ExactIndexAdapter(ExactIndex index) => Index = index;

    public ExactIndex Index { get; }

    public string Kind => KindCode;

    public DistanceMetric Metric => Index.Metric;

    public int Dimension => Index.Dimension;

    public int Count => Index.Count;

    public long GetId(int row) => Index.GetId(row);

    public bool TryGetRow(long id, out int row) => Index.TryGetRow(id, out row);

    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances,
        ReadOnlySpan<long> excludedIds, int threads, int numberOfProbes, CancellationToken cancellationToken)
    {
        NeighborIndexes.CheckNoProbes(KindCode, numberOfProbes);
        Index.Search(queries, k, ids, distances, NeighborIndexes.CreateParameters(excludedIds, threads, cancellationToken));
    }

    public void Save(Stream stream) => Index.Save(stream);
}

/// <summary>Exposes an exhaustive <see cref="PqIndex"/> to the ML.NET layer.</summary>
internal sealed class PqIndexAdapter : INeighborIndex
{
    public const string KindCode = "PQEX";

    public PqIndexAdapter(PqIndex index) => Index = index;

    public PqIndex Index { get; }

    public string Kind => KindCode;

    public DistanceMetric Metric => DistanceMetric.SquaredEuclidean;

    public int Dimension => Index.Dimension;

    public int Count => Index.Count;

    public long GetId(int row) => Index.GetId(row);

    public bool TryGetRow(long id, out int row) => Index.TryGetRow(id, out row);

    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances,
        ReadOnlySpan<long> excludedIds, int threads, int numberOfProbes, CancellationToken cancellationToken)
    {
        NeighborIndexes.CheckNoProbes(KindCode, numberOfProbes);
        Index.Search(queries, k, ids, distances, NeighborIndexes.CreateParameters(excludedIds, threads, cancellationToken));
    }

    public void Save(Stream stream) => Index.Save(stream);
}
