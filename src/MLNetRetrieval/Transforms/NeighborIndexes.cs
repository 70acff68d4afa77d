using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Transforms;

/// <summary>Maps the four-character index kinds stored in a model to their loaders.</summary>
internal static class NeighborIndexes
{
    public static INeighborIndex Load(string kind, Stream stream) => kind switch
    {
        ExactIndexAdapter.KindCode => new ExactIndexAdapter(ExactIndex.Load(stream)),
        _ => throw new InvalidDataException($"The model's retrieval state names index kind '{kind}', which this MLNetRetrieval version does not know. Known kinds: {ExactIndexAdapter.KindCode}. Upgrade MLNetRetrieval."),
    };
}

/// <summary>Exposes an <see cref="ExactIndex"/> to the ML.NET layer.</summary>
internal sealed class ExactIndexAdapter : INeighborIndex
{
    public const string KindCode = "EXCT";

    public ExactIndexAdapter(ExactIndex index) => Index = index;

    public ExactIndex Index { get; }

    public string Kind => KindCode;

    public int Dimension => Index.Dimension;

    public int Count => Index.Count;

    public long GetId(int row) => Index.GetId(row);

    public bool TryGetRow(long id, out int row) => Index.TryGetRow(id, out row);

    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances,
        ReadOnlySpan<long> excludedIds, int threads, CancellationToken cancellationToken)
    {
        var parameters = new SearchParameters
        {
            Threads = threads,
            ExcludedIds = excludedIds.IsEmpty ? ReadOnlyMemory<long>.Empty : excludedIds.ToArray(),
            CancellationToken = cancellationToken,
        };
        Index.Search(queries, k, ids, distances, parameters);
    }

    public void Save(Stream stream) => Index.Save(stream);
}
