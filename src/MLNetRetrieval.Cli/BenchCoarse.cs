using System.Diagnostics;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.IO;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Cli;

/// <summary>
/// <c>bench --coarse-check N</c> for ivf-hnsw-pq: assigns the first N base vectors to lists through the centroid graph
/// and by comparing with every centroid, and reports both times and how often the graph finds the true nearest centroid.
/// </summary>
internal static class BenchCoarse
{
    /// <summary>
    /// One coarse-assignment measurement. Ef is the graph's efSearch, or null for the brute-force row. Agreement is the
    /// fraction of vectors whose list is their true nearest centroid. DatabaseSeconds scales the measured time linearly
    /// to the whole base, an estimate.
    /// </summary>
    internal sealed record AssignmentRow(string Method, int? Ef, int Rows, double Seconds, double MicrosecondsPerVector, double DatabaseSeconds, double Agreement);

    /// <summary>Bytes of an IVF-PQ index by component, as saved: codes, ids, centroids, codebooks, and the rest (graph, list sizes, headers).</summary>
    internal sealed record SizeBreakdown(long Codes, long Ids, long Centroids, long Codebooks, long GraphAndHeaders, long Total);

    /// <summary>
    /// Measures brute-force assignment once, then graph assignment at each of <paramref name="efValues"/>; restores the
    /// index's efSearch afterwards. Both methods run on every core, as <see cref="IvfPqIndex.Add(ReadOnlySpan{float}, CancellationToken)"/> does.
    /// </summary>
    public static List<AssignmentRow> Check(IvfPqIndex index, VectorSet baseSet, int rows, IEnumerable<int> efValues, CancellationToken token)
    {
        int n = Math.Min(rows, baseSet.Count);
        int d = baseSet.Dimension;
        ReadOnlySpan<float> vectors = baseSet.Values.AsSpan(0, checked(n * d));
        var truth = new int[n];
        var clock = Stopwatch.StartNew();
        KMeans.Assign(index.Centroids, index.NumberOfLists, d, vectors, n, truth, Span<float>.Empty, threads: 0, token);
        double exactSeconds = clock.Elapsed.TotalSeconds;
        var result = new List<AssignmentRow> { CreateRow("brute force", null, n, exactSeconds, baseSet.Count, 1.0) };

        int buildEf = index.CoarseEfSearch;
        var found = new int[n];
        try
        {
            foreach (int ef in efValues.Prepend(buildEf).Distinct())
            {
                token.ThrowIfCancellationRequested();
                index.CoarseEfSearch = ef;
                clock.Restart();
                index.AssignToLists(vectors, found);
                double seconds = clock.Elapsed.TotalSeconds;
                int same = 0;
                for (int i = 0; i < n; i++)
                {
                    if (found[i] == truth[i])
                        same++;
                }

                result.Add(CreateRow("hnsw", ef, n, seconds, baseSet.Count, (double)same / n));
            }
        }
        finally
        {
            index.CoarseEfSearch = buildEf;
        }

        return result;
    }

    /// <summary>Splits the saved size of <paramref name="index"/> into its components; the remainder contains the graph.</summary>
    public static SizeBreakdown Sizes(IvfPqIndex index, long total)
    {
        long codes = (long)index.Count * index.Quantizer.CodeSize;
        long ids = (long)index.Count * sizeof(long);
        long centroids = (long)index.NumberOfLists * index.Dimension * sizeof(float);
        long codebooks = (long)index.Quantizer.Codebooks.Length * sizeof(float);
        return new SizeBreakdown(codes, ids, centroids, codebooks, total - codes - ids - centroids - codebooks, total);
    }

    private static AssignmentRow CreateRow(string method, int? ef, int rows, double seconds, int databaseCount, double agreement) =>
        new(method, ef, rows, seconds, seconds * 1e6 / rows, seconds * databaseCount / rows, agreement);
}
