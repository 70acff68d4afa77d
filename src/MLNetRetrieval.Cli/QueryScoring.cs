using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.IO;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Cli;

/// <summary>How the search and evaluate commands score queries.</summary>
internal enum ScoringPath
{
    /// <summary><see cref="Batch"/> when the model allows it, else <see cref="Transform"/>.</summary>
    Auto,

    /// <summary>The loaded model's ML.NET <c>Transform</c>, one query row at a time.</summary>
    Transform,

    /// <summary><see cref="NeighborSearcher.Search(ReadOnlySpan{float}, ReadOnlySpan{long}, Span{long}, Span{float}, NeighborSearchSettings?, int, CancellationToken)"/> over blocks of queries on several threads.</summary>
    Batch,
}

/// <summary>
/// Neighbors of one query. The memory belongs to the scorer and is overwritten by the next query,
/// so copy what must outlive the iteration step.
/// </summary>
internal sealed class ScoredQuery
{
    /// <summary>0-based row of the query in its file.</summary>
    public int Row { get; set; }

    public long QueryId { get; set; }

    /// <summary>k ids, best first; −1 marks padding past the collection size.</summary>
    public ReadOnlyMemory<long> Ids { get; set; }

    /// <summary>k distances, ascending; +∞ at padding.</summary>
    public ReadOnlyMemory<float> Distances { get; set; }
}

/// <summary>Scores query vectors against a model, row by row through ML.NET or in batches.</summary>
internal static class QueryScoring
{
    /// <summary>Upper bound on ids plus distances held per batch (12 bytes each), so k = 10000 batches stay near 50 MB.</summary>
    private const int MaxResultsPerBatch = 4_000_000;

    private const int MaxBatchSize = 1024;

    /// <summary>Picks the scoring path, checks k and the query dimension, and returns the lazy sequence of scored queries.</summary>
    /// <exception cref="UsageException"><paramref name="k"/> exceeds the model's k, or batch scoring was requested for a model with transforms before the search.</exception>
    /// <exception cref="InvalidDataException">The queries' dimension differs from the index's.</exception>
    public static IEnumerable<ScoredQuery> Score(MLContext context, ModelFile model, VectorSet queries, string queriesPath,
        int k, ScoringPath path, int threads, CancellationToken cancellationToken)
    {
        NeighborSearcher searcher = model.Searcher;
        CheckK(model, k);
        if (queries.Dimension != searcher.Dimension)
            throw new InvalidDataException($"{queriesPath}: the queries have dimension {queries.Dimension}, but the index in {model.Path} has dimension {searcher.Dimension}. Pass queries of the indexed dimension.");

        ScoringPath resolved = Resolve(model, path);
        long[] queryIds = VectorViews.IdsOf(queries);
        CheckZeroQueries(searcher, queries, queryIds, queriesPath);
        return resolved == ScoringPath.Batch
            ? InBatches(searcher, queries, queryIds, k, threads, cancellationToken)
            : ThroughTransform(model.Model, VectorViews.Create(context, queries), queryIds, searcher.NumberOfNeighbors, k, cancellationToken);
    }

    /// <summary>Returns the 0-based row of the first vector whose components are all zero, or −1.</summary>
    public static int FindZeroRow(VectorSet vectors)
    {
        for (int row = 0; row < vectors.Count; row++)
        {
            bool zero = true;
            foreach (float value in vectors.GetVector(row))
            {
                if (value != 0f)
                {
                    zero = false;
                    break;
                }
            }

            if (zero)
                return row;
        }

        return -1;
    }

    /// <summary>
    /// Rejects a zero query vector before any result is written when the index rejects zero vectors
    /// (the cosine metric). Otherwise the index would fail mid-run and name the row within its block of
    /// queries, not the row in the file.
    /// </summary>
    /// <exception cref="InvalidDataException">A query is a zero vector and the index rejects it.</exception>
    private static void CheckZeroQueries(NeighborSearcher searcher, VectorSet queries, long[] queryIds, string queriesPath)
    {
        int row = FindZeroRow(queries);
        if (row < 0 || !RejectsZeroVectors(searcher))
            return;

        throw new InvalidDataException(
            $"{queriesPath}: query row {row} (rows counted from 0), id {queryIds[row]}, is a zero vector, which has no direction under the index's cosine metric. Remove that query, or rebuild the index with --metric l2 or ip.");
    }

    /// <summary>Returns whether the index rejects a zero query vector, as it does under the cosine metric.</summary>
    public static bool RejectsZeroVectors(NeighborSearcher searcher)
    {
        // NOTE: NeighborSearcher does not expose its metric, so one zero query probes whether the index rejects it.
        try
        {
            searcher.Search(new float[searcher.Dimension], [], new long[searcher.NumberOfNeighbors], new float[searcher.NumberOfNeighbors], threads: 1);
            return false;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <exception cref="UsageException"><paramref name="k"/> exceeds the model's k.</exception>
    public static void CheckK(ModelFile model, int k)
    {
        int modelK = model.Searcher.NumberOfNeighbors;
        if (k > modelK)
            throw new UsageException($"--k {k} is larger than the k of {model.Path} ({modelK}); pass --k {modelK} or less, or rebuild the index with a larger --k.");
    }

    /// <exception cref="UsageException">Batch scoring was requested for a model with transforms before the search.</exception>
    public static ScoringPath Resolve(ModelFile model, ScoringPath path)
    {
        if (path == ScoringPath.Batch && !model.SearchIsFirstTransform)
            throw new UsageException($"--scoring batch needs a model whose first transform is the search, but {model.Path} transforms the vectors first (for example --normalize). Use --scoring transform or auto.");
        if (path == ScoringPath.Auto)
            return model.SearchIsFirstTransform ? ScoringPath.Batch : ScoringPath.Transform;
        return path;
    }

    /// <summary>
    /// Runs <paramref name="model"/>'s Transform over <paramref name="queries"/> and reads the first
    /// <paramref name="k"/> of the <paramref name="modelK"/> neighbors of each row. This is the standard
    /// ML.NET path; it also applies the transforms saved before the search.
    /// </summary>
    public static IEnumerable<ScoredQuery> ThroughTransform(ITransformer model, IDataView queries, long[] queryIds,
        int modelK, int k, CancellationToken cancellationToken)
    {
        IDataView scored = model.Transform(queries);
        DataViewSchema.Column idsColumn = RequireColumn(scored.Schema, NeighborSearchOptions.Defaults.NeighborIdsColumnName);
        DataViewSchema.Column distancesColumn = RequireColumn(scored.Schema, NeighborSearchOptions.Defaults.DistancesColumnName);
        using DataViewRowCursor cursor = scored.GetRowCursor(new[] { idsColumn, distancesColumn });
        ValueGetter<VBuffer<long>> getIds = cursor.GetGetter<VBuffer<long>>(idsColumn);
        ValueGetter<VBuffer<float>> getDistances = cursor.GetGetter<VBuffer<float>>(distancesColumn);
        VBuffer<long> ids = default;
        VBuffer<float> distances = default;
        var idBuffer = new long[modelK];
        var distanceBuffer = new float[modelK];
        var result = new ScoredQuery();
        int row = 0;
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            getIds(ref ids);
            getDistances(ref distances);
            if (ids.Length != modelK || distances.Length != modelK)
                throw new InvalidDataException($"Query row {row}: the model returned {ids.Length} ids and {distances.Length} distances, expected k = {modelK} of each.");
            ids.CopyTo(idBuffer);
            distances.CopyTo(distanceBuffer);
            result.Row = row;
            result.QueryId = queryIds[row];
            result.Ids = new ReadOnlyMemory<long>(idBuffer, 0, k);
            result.Distances = new ReadOnlyMemory<float>(distanceBuffer, 0, k);
            yield return result;
            row++;
        }
    }

    /// <summary>
    /// Searches blocks of queries with <see cref="NeighborSearcher.Search(ReadOnlySpan{float}, ReadOnlySpan{long}, Span{long}, Span{float}, NeighborSearchSettings?, int, CancellationToken)"/>, which spreads each block
    /// over <paramref name="threads"/> threads. Only valid when no transform precedes the search.
    /// </summary>
    public static IEnumerable<ScoredQuery> InBatches(NeighborSearcher searcher, VectorSet queries, long[] queryIds,
        int k, int threads, CancellationToken cancellationToken)
    {
        int modelK = searcher.NumberOfNeighbors;
        int d = queries.Dimension;
        int batchSize = Math.Clamp(MaxResultsPerBatch / modelK, 1, MaxBatchSize);
        var ids = new long[checked(batchSize * modelK)];
        var distances = new float[ids.Length];
        var result = new ScoredQuery();
        for (int first = 0; first < queries.Count; first += batchSize)
        {
            int n = Math.Min(batchSize, queries.Count - first);
            int size = checked(n * modelK);
            searcher.Search(
                queries.Values.AsSpan(checked(first * d), checked(n * d)),
                queryIds.AsSpan(first, n),
                ids.AsSpan(0, size),
                distances.AsSpan(0, size),
                threads,
                cancellationToken);
            for (int i = 0; i < n; i++)
            {
                result.Row = first + i;
                result.QueryId = queryIds[first + i];
                result.Ids = new ReadOnlyMemory<long>(ids, i * modelK, k);
                result.Distances = new ReadOnlyMemory<float>(distances, i * modelK, k);
                yield return result;
            }
        }
    }

    private static DataViewSchema.Column RequireColumn(DataViewSchema schema, string name) =>
        schema.GetColumnOrNull(name)
        ?? throw new InvalidDataException($"The scored queries have no column '{name}'. Pass a model zip written by the index command.");
}
