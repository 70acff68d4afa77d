using MLNetRetrieval.Evaluation;
using MLNetRetrieval.Kernels;
using MLNetRetrieval.MetricLearning.Network;

namespace MLNetRetrieval.MetricLearning;

/// <summary>Leave-one-out MAP@R of embeddings within the validation rows.</summary>
internal static class ValidationMetrics
{
    /// <summary>Queries per block of the distance matrix, which is QueryBlock × rows floats.</summary>
    private const int QueryBlock = 256;

    /// <summary>
    /// Embeds <paramref name="features"/> with <paramref name="network"/> in inference mode, ranks for each row
    /// the R nearest other rows by squared L2 distance (R = other rows of its class, ties by row index), and
    /// returns the mean MAP@R, or NaN when no row has a same-class neighbour.
    /// </summary>
    public static double MapAtR(FeedForwardNetwork network, float[] features, int[] classes, int classCount, int threads, CancellationToken cancellationToken)
    {
        int rows = classes.Length;
        int e = network.OutputDimension;
        var embeddings = new float[checked(rows * e)];
        Embed(network, features, rows, embeddings, threads);
        return MapAtR(embeddings, e, classes, classCount, threads, cancellationToken);
    }

    /// <summary>Returns the leave-one-out MAP@R of row-major <paramref name="embeddings"/> (rows × e).</summary>
    public static double MapAtR(float[] embeddings, int e, int[] classes, int classCount, int threads, CancellationToken cancellationToken)
    {
        int rows = classes.Length;
        var counts = new int[classCount];
        foreach (int c in classes)
        {
            counts[c]++;
        }

        var squaredNorms = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            squaredNorms[i] = System.Numerics.Tensors.TensorPrimitives.SumOfSquares(embeddings.AsSpan(i * e, e));
        }

        var rankings = new JudgedRanking[rows];
        int blocks = (rows + QueryBlock - 1) / QueryBlock;
        long[] ids = Enumerable.Range(0, rows).Select(i => (long)i).ToArray();
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, block =>
        {
            int first = block * QueryBlock;
            int queries = Math.Min(QueryBlock, rows - first);
            var distances = new float[queries * rows];
            Sgemm.Multiply(false, true, queries, rows, e, embeddings.AsSpan(first * e, queries * e), embeddings, distances, accumulate: false, threads: 1, VectorWidths.Best);
            for (int q = 0; q < queries; q++)
            {
                int query = first + q;
                Span<float> row = distances.AsSpan(q * rows, rows);
                for (int j = 0; j < rows; j++)
                {
                    row[j] = squaredNorms[query] + squaredNorms[j] - (2 * row[j]);
                }

                int r = counts[classes[query]] - 1;
                var relevant = new bool[r];
                if (r > 0)
                {
                    var heapDistances = new float[r];
                    var heapIds = new long[r];
                    int count = 0;
                    TopK.PushRow(row, ids, query, heapDistances, heapIds, ref count, VectorWidths.Best);
                    var sortedDistances = new float[r];
                    var sortedIds = new long[r];
                    TopK.Drain(heapDistances, heapIds, ref count, sortedDistances, sortedIds);
                    for (int i = 0; i < r; i++)
                    {
                        relevant[i] = sortedIds[i] >= 0 && classes[sortedIds[i]] == classes[query];
                    }
                }

                rankings[query] = new JudgedRanking(query, relevant, r);
            }
        });

        var options = new RankingEvaluatorOptions { RecallCutoffs = [1], PrecisionCutoffs = [1] };
        RankingReport report = RankingEvaluator.Evaluate(rankings, options, cancellationToken);
        return report.MeanMapAtR ?? double.NaN;
    }

    private static void Embed(FeedForwardNetwork network, float[] features, int rows, float[] embeddings, int threads)
    {
        int d = network.InputDimension;
        int e = network.OutputDimension;
        int blocks = (rows + QueryBlock - 1) / QueryBlock;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads }, block =>
        {
            int first = block * QueryBlock;
            int count = Math.Min(QueryBlock, rows - first);
            network.Infer(features.AsSpan(first * d, count * d), embeddings.AsSpan(first * e, count * e), count, threads: 1);
        });
    }
}
