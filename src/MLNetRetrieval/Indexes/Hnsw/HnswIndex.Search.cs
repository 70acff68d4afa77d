namespace MLNetRetrieval.Indexes;

public sealed partial class HnswIndex
{
    /// <summary>Finds approximately the <paramref name="k"/> nearest stored vectors of each query.</summary>
    /// <param name="queries">Row-major queries, size nq × <see cref="Dimension"/>.</param>
    /// <param name="k">Neighbors per query, ≥ 1. Slots that the search cannot fill get id −1 and distance +∞.</param>
    /// <param name="ids">Output ids, size nq × k, best first per query; equal distances rank the lower id first.</param>
    /// <param name="distances">Output distances, size nq × k, "smaller is closer" (see <see cref="DistanceMetric"/>).</param>
    /// <param name="parameters">Threads, beam width, excluded ids, filter and cancellation; null uses the defaults.</param>
    /// <exception cref="ArgumentException">Shapes do not match, a setting is out of range, a query value is NaN or
    /// infinite, or (cosine) a query is zero.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled.</exception>
    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, HnswSearchParameters? parameters = null)
    {
        parameters ??= new HnswSearchParameters();
        int nq = VectorChecks.RowCount(queries, Dimension, nameof(queries));
        if (k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        }

        long resultLength = (long)nq * k;
        if (ids.Length != resultLength || distances.Length != resultLength)
        {
            throw new ArgumentException($"Expected result buffers of queries × k = {nq} × {k} = {resultLength} elements, got {ids.Length} ids and {distances.Length} distances.", nameof(ids));
        }

        if (parameters.Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(parameters), parameters.Threads, "HnswSearchParameters.Threads must be 0 (all cores) or positive.");
        }

        if (parameters.EfSearch < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(parameters), parameters.EfSearch, "HnswSearchParameters.EfSearch must be 0 (the index default) or positive.");
        }

        ReadOnlyMemory<long> excluded = parameters.ExcludedIds;
        if (!excluded.IsEmpty && excluded.Length != nq)
        {
            throw new ArgumentException($"HnswSearchParameters.ExcludedIds must be empty or hold one id per query ({nq}), got {excluded.Length}.", nameof(parameters));
        }

        VectorChecks.EnsureFinite(queries, Dimension, nameof(queries));
        var prepared = new float[queries.Length];
        if (Metric == DistanceMetric.Cosine)
        {
            VectorChecks.Normalize(queries, Dimension, prepared, nameof(queries));
        }
        else
        {
            queries.CopyTo(prepared);
        }

        CancellationToken token = parameters.CancellationToken;
        token.ThrowIfCancellationRequested();
        int ef = Math.Max(parameters.EfSearch == 0 ? EfSearch : parameters.EfSearch, k);
        int workers = parameters.Threads == 0 ? Environment.ProcessorCount : parameters.Threads;
        if (workers <= 1 || nq < 2)
        {
            HnswScratch scratch = RentScratch();
            try
            {
                for (int q = 0; q < nq; q++)
                {
                    token.ThrowIfCancellationRequested();
                    SearchOne(prepared, q, k, ef, excluded, parameters.Filter, scratch, ids.Slice(q * k, k), distances.Slice(q * k, k));
                }
            }
            finally
            {
                ReturnScratch(scratch);
            }

            return;
        }

        var foundIds = new long[resultLength];
        var foundDistances = new float[resultLength];
        Parallel.For(
            0,
            nq,
            new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = token },
            RentScratch,
            (q, _, scratch) =>
            {
                token.ThrowIfCancellationRequested();
                SearchOne(prepared, q, k, ef, excluded, parameters.Filter, scratch, foundIds.AsSpan(q * k, k), foundDistances.AsSpan(q * k, k));
                return scratch;
            },
            ReturnScratch);
        foundIds.CopyTo(ids);
        foundDistances.CopyTo(distances);
    }

    private void SearchOne(float[] queries, int q, int k, int ef, ReadOnlyMemory<long> excluded, Func<long, bool>? predicate, HnswScratch scratch, Span<long> ids, Span<float> distances)
    {
        ids.Fill(-1);
        distances.Fill(float.PositiveInfinity);
        int entry = _entryPoint;
        if (entry < 0)
        {
            return;
        }

        ReadOnlySpan<float> x = queries.AsSpan(q * Dimension, Dimension);
        float entryDistance = Distance(x, entry);
        for (int layer = _maxLevel; layer > 0; layer--)
        {
            GreedyDescend(x, layer, ref entry, ref entryDistance, scratch, concurrent: false);
        }

        // With nothing deleted, excluded or filtered, every node is a result, and the search skips reading the
        // deleted flag and the id of each node it accepts.
        ResultFilter filter = excluded.IsEmpty && predicate is null && DeletedCount == 0
            ? ResultFilter.None
            : new ResultFilter(excluded.IsEmpty ? -1 : excluded.Span[q], predicate);
        SearchLayer(x, entry, entryDistance, ef, 0, scratch, concurrent: false, filter);
        int found = scratch.DrainResults();

        // The heap orders equal distances by row; the contract orders them by id.
        int[] nodes = scratch.FoundNodes;
        float[] values = scratch.FoundDistances;
        int take = Math.Min(found, k);
        for (int i = 0; i < found; i++)
        {
            long id = _ids[nodes[i]];
            float distance = values[i];
            int j = Math.Min(i, take) - 1;
            if (i >= take && (distance > distances[take - 1] || (distance == distances[take - 1] && id > ids[take - 1])))
            {
                continue;
            }

            if (i >= take)
            {
                j = take - 2;
            }

            while (j >= 0 && (distances[j] > distance || (distances[j] == distance && ids[j] > id)))
            {
                ids[j + 1] = ids[j];
                distances[j + 1] = distances[j];
                j--;
            }

            ids[j + 1] = id;
            distances[j + 1] = distance;
        }
    }
}
