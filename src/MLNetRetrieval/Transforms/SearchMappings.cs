using System.ComponentModel;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNetRetrieval.Transforms;

// The types below are the public contract between a saved model zip and this assembly. A saved model
// names the factories by contract name, and ML.NET binds the row classes to columns by the names in
// [ColumnName]. Renaming a contract, a class or a column name breaks every saved model: add new
// contracts instead.

/// <summary>Column names used inside the standard transformer chain of a fitted neighbor search.</summary>
internal static class SearchColumns
{
    public const string Query = "__MLNetRetrieval.Query";
    public const string QueryId = "__MLNetRetrieval.QueryId";
    public const string StateKey = "__MLNetRetrieval.StateKey";
    public const string State = "__MLNetRetrieval.State";
    public const string NeighborIds = "__MLNetRetrieval.NeighborIds";
    public const string Distances = "__MLNetRetrieval.Distances";
    public const string NeighborLabels = "__MLNetRetrieval.NeighborLabels";

    /// <summary>The single key of the value mapping that stores the state.</summary>
    public const string StateKeyValue = "state";
}

/// <summary>Infrastructure for saved models: the input row of the state-key mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class StateKeyInput
{
    /// <summary>The query vector; read only so that the mapping has an input column.</summary>
    [ColumnName(SearchColumns.Query)]
    [VectorType]
    public VBuffer<float> Query;
}

/// <summary>Infrastructure for saved models: the output row of the state-key mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class StateKeyOutput
{
    /// <summary>The constant key under which the value mapping stores the retrieval state.</summary>
    [ColumnName(SearchColumns.StateKey)]
    public ReadOnlyMemory<char> Key;
}

/// <summary>Infrastructure for saved models: emits the constant key of the retrieval state.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class StateKeyMappingFactory : CustomMappingFactory<StateKeyInput, StateKeyOutput>
{
    internal const string ContractName = "MLNetRetrieval.StateKey.v1";

    private static readonly ReadOnlyMemory<char> KeyValue = SearchColumns.StateKeyValue.AsMemory();

    /// <inheritdoc />
    public override Action<StateKeyInput, StateKeyOutput> GetMapping() => static (_, output) => output.Key = KeyValue;
}

/// <summary>Infrastructure for saved models: the input row of a neighbor search without query ids.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public class NeighborSearchInput
{
    /// <summary>The query vector.</summary>
    [ColumnName(SearchColumns.Query)]
    [VectorType]
    public VBuffer<float> Query;

    /// <summary>The encoded retrieval state (see the payload format in the library source).</summary>
    [ColumnName(SearchColumns.State)]
    [VectorType]
    public VBuffer<ReadOnlyMemory<char>> State;
}

/// <summary>Infrastructure for saved models: the input row of a neighbor search with query ids.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class NeighborSearchByIdInput : NeighborSearchInput
{
    /// <summary>The query's id, left out of its own results when the search excludes self matches.</summary>
    [ColumnName(SearchColumns.QueryId)]
    public long QueryId;
}

/// <summary>Infrastructure for saved models: the output row of a neighbor search.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class NeighborSearchOutput
{
    /// <summary>Ids of the k nearest items, best first, padded with −1.</summary>
    [ColumnName(SearchColumns.NeighborIds)]
    [VectorType]
    public VBuffer<long> NeighborIds;

    /// <summary>Distances of the k nearest items, ascending, padded with +∞.</summary>
    [ColumnName(SearchColumns.Distances)]
    [VectorType]
    public VBuffer<float> Distances;

    /// <summary>Labels of the k nearest items (empty text for padding), or an empty vector without labels.</summary>
    [ColumnName(SearchColumns.NeighborLabels)]
    [VectorType]
    public VBuffer<ReadOnlyMemory<char>> NeighborLabels;
}

/// <summary>Infrastructure for saved models: searches each query row without query ids.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class NeighborSearchMappingFactory : CustomMappingFactory<NeighborSearchInput, NeighborSearchOutput>
{
    internal const string ContractName = "MLNetRetrieval.NeighborSearch.v1";

    /// <inheritdoc />
    public override Action<NeighborSearchInput, NeighborSearchOutput> GetMapping()
    {
        var searcher = new RowSearcher();
        return (input, output) => searcher.Search(input, queryId: -1, output);
    }
}

/// <summary>Infrastructure for saved models: searches each query row, leaving out the query's own id when asked.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class NeighborSearchByIdMappingFactory : CustomMappingFactory<NeighborSearchByIdInput, NeighborSearchOutput>
{
    internal const string ContractName = "MLNetRetrieval.NeighborSearchById.v1";

    /// <inheritdoc />
    public override Action<NeighborSearchByIdInput, NeighborSearchOutput> GetMapping()
    {
        var searcher = new RowSearcher();
        return (input, output) => searcher.Search(input, input.QueryId, output);
    }
}

/// <summary>
/// Decodes the retrieval state once per mapping and searches one query per call. ML.NET may call the
/// mapping from several cursors at once, so the cache is swapped atomically and search scratch is local.
/// </summary>
internal sealed class RowSearcher
{
    private sealed record Cached(string Header, SearchState State);

    private Cached? _cached;

    /// <summary>Seeds the cache with an already decoded state, so a freshly fitted model skips decoding.</summary>
    public RowSearcher(string? header = null, SearchState? state = null)
    {
        if (header is not null && state is not null)
            _cached = new Cached(header, state);
    }

    public void Search(NeighborSearchInput input, long queryId, NeighborSearchOutput output)
    {
        SearchState state = GetState(input.State);
        INeighborIndex index = state.Index;
        ReadOnlySpan<float> query = input.Query.GetValues();
        if (input.Query.Length != index.Dimension)
            throw new ArgumentOutOfRangeException(nameof(input), $"The query vector has {input.Query.Length} components but the index was built with {index.Dimension}. Feed vectors of the indexed size.");

        float[]? dense = null;
        if (!input.Query.IsDense)
        {
            dense = new float[index.Dimension];
            input.Query.CopyTo(dense);
            query = dense;
        }

        int k = state.K;
        // Fresh arrays per row: ML.NET copies them out, but cursors on other threads share this mapping.
        var ids = new long[k];
        var distances = new float[k];
        ReadOnlySpan<long> excluded = state.ExcludeSelf && queryId >= 0 ? new[] { queryId } : ReadOnlySpan<long>.Empty;
        index.Search(query, k, ids, distances, excluded, threads: 1, CancellationToken.None);

        output.NeighborIds = new VBuffer<long>(k, ids);
        output.Distances = new VBuffer<float>(k, distances);
        output.NeighborLabels = state.Labels is null ? default : new VBuffer<ReadOnlyMemory<char>>(k, LookUpLabels(state, ids));
    }

    private static ReadOnlyMemory<char>[] LookUpLabels(SearchState state, long[] ids)
    {
        var labels = new ReadOnlyMemory<char>[ids.Length];
        for (int i = 0; i < ids.Length; i++)
            labels[i] = ids[i] >= 0 && state.Index.TryGetRow(ids[i], out int row) ? state.Labels![row].AsMemory() : ReadOnlyMemory<char>.Empty;
        return labels;
    }

    private SearchState GetState(VBuffer<ReadOnlyMemory<char>> encoded)
    {
        ReadOnlySpan<ReadOnlyMemory<char>> chunks = encoded.GetValues();
        if (chunks.IsEmpty)
            throw new InvalidDataException("The model's retrieval state column is empty. The model file is damaged or its value mapping was replaced.");

        Cached? cached = Volatile.Read(ref _cached);
        if (cached is not null && chunks[0].Span.SequenceEqual(cached.Header))
            return cached.State;

        string header = chunks[0].ToString();
        ReadOnlyMemory<char>[] copies = chunks.ToArray();
        SearchState state = SearchStateCache.GetOrDecode(copies[0], () => SearchState.Deserialize(TextPayload.Decode(copies)));
        Volatile.Write(ref _cached, new Cached(header, state));
        return state;
    }
}
