using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.ImageBenchmarks;

/// <summary>Exact k-NN search over feature matrices, skipping rows of failed images.</summary>
internal static class ExactRetrieval
{
    /// <summary>
    /// Ranks the database for each query by squared Euclidean distance, which orders unit vectors as cosine
    /// distance does. Database ids are row numbers in the concatenation of <paramref name="databaseParts"/>.
    /// </summary>
    /// <param name="databaseParts">Database matrices, concatenated in order; failed rows are left out.</param>
    /// <param name="queries">Query matrix; failed rows get a ranking of padding (−1).</param>
    /// <param name="k">Results per query; 0 for the whole database.</param>
    /// <param name="threads">Search threads; 0 for all cores.</param>
    /// <returns>Ids, size queries × k, best first, and k.</returns>
    public static (long[] Ids, int K) Search(IReadOnlyList<FeatureMatrix> databaseParts, FeatureMatrix queries, int k, int threads)
    {
        int dimension = queries.Dimension;
        var index = new ExactIndex(dimension, DistanceMetric.SquaredEuclidean);
        long offset = 0;
        foreach (FeatureMatrix part in databaseParts)
        {
            if (part.Dimension != dimension)
            {
                throw new ArgumentException($"A database part has dimension {part.Dimension} but the queries {dimension}.", nameof(databaseParts));
            }

            var rows = new List<int>();
            for (int row = 0; row < part.Count; row++)
            {
                if (!part.Failed[row])
                {
                    rows.Add(row);
                }
            }

            var vectors = new float[checked(rows.Count * dimension)];
            var ids = new long[rows.Count];
            for (int i = 0; i < rows.Count; i++)
            {
                part.Row(rows[i]).CopyTo(vectors.AsSpan(i * dimension));
                ids[i] = offset + rows[i];
            }

            index.Add(vectors, ids);
            offset += part.Count;
        }

        if (k == 0)
        {
            k = index.Count;
        }

        var queryRows = new List<int>();
        for (int row = 0; row < queries.Count; row++)
        {
            if (!queries.Failed[row])
            {
                queryRows.Add(row);
            }
        }

        var queryVectors = new float[checked(queryRows.Count * dimension)];
        for (int i = 0; i < queryRows.Count; i++)
        {
            queries.Row(queryRows[i]).CopyTo(queryVectors.AsSpan(i * dimension));
        }

        var found = new long[checked(queryRows.Count * k)];
        var distances = new float[found.Length];
        index.Search(queryVectors, k, found, distances, new SearchParameters { Threads = threads });

        var result = new long[checked(queries.Count * k)];
        Array.Fill(result, -1L);
        for (int i = 0; i < queryRows.Count; i++)
        {
            found.AsSpan(i * k, k).CopyTo(result.AsSpan(queryRows[i] * k, k));
        }

        return (result, k);
    }
}
