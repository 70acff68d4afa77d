using System.Diagnostics;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.Quantization;

/// <summary>
/// k-means clustering by Lloyd iterations under squared Euclidean distance, in the manner of FAISS's
/// <c>Clustering</c>: optional sampling of the training set, k-means++ or random seeding, a GEMM-based
/// assignment step, an update step in double precision, and re-seeding of empty clusters by splitting.
/// </summary>
/// <remarks>
/// <para>The assignment step computes ‖x‖² + ‖c‖² − 2x·c for blocks of points against all centroids with the
/// register-tiled GEMM kernel and keeps the nearest centroid, the lower index on ties. Point blocks run on
/// several threads. The update step sums each cluster's points in point order with double accumulators, split
/// across threads by dimension, so every sum has the same order whatever the thread count. With a fixed
/// <see cref="KMeansOptions.Seed"/>, centroids are therefore bit-identical for any
/// <see cref="KMeansOptions.Threads"/>.</para>
/// <para>An empty cluster is re-seeded as FAISS does: a cluster is drawn with probability proportional to its
/// size minus one, its centroid is copied, and the two copies are scaled by 1 ± 1/1024 in alternating
/// dimensions so that the next assignment splits its points between them.</para>
/// </remarks>
public static class KMeans
{
    /// <summary>Points per block of the assignment step, the unit of threading and cancellation.</summary>
    private const int PointBlock = 256;

    /// <summary>Relative perturbation of the two copies of a split centroid (FAISS <c>EPS</c>).</summary>
    private const float SplitEpsilon = 1f / 1024f;

    /// <summary>Clusters row-major <paramref name="data"/> into <see cref="KMeansOptions.NumberOfClusters"/> centroids.</summary>
    /// <param name="data">Training points, row-major, size <paramref name="count"/> × <paramref name="dimension"/>.</param>
    /// <param name="count">Number of points, at least the number of clusters.</param>
    /// <param name="dimension">Length of every point, in [1, 1048576].</param>
    /// <param name="options">Number of clusters, iterations, seeding, seed, sampling, threads, progress and cancellation.</param>
    /// <returns>The centroids and per-iteration statistics.</returns>
    /// <exception cref="ArgumentException">An option is out of range, the buffer length is not
    /// <paramref name="count"/> × <paramref name="dimension"/>, there are fewer points than clusters, or a value is NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled.</exception>
    public static KMeansResult Train(ReadOnlySpan<float> data, int count, int dimension, KMeansOptions options) =>
        TrainAtWidth(data, count, dimension, options, VectorWidths.Best);

    /// <summary>
    /// Assigns each point to its nearest centroid under squared Euclidean distance (the lower index on ties),
    /// computing the distances with the blocked GEMM kernel on several threads.
    /// </summary>
    /// <param name="centroids">Centroids, row-major, size <paramref name="numberOfClusters"/> × <paramref name="dimension"/>.</param>
    /// <param name="numberOfClusters">Number of centroids k, at least 1.</param>
    /// <param name="dimension">Length of every vector, in [1, 1048576].</param>
    /// <param name="data">Points, row-major, size <paramref name="count"/> × <paramref name="dimension"/>.</param>
    /// <param name="count">Number of points, at least 0.</param>
    /// <param name="assignments">Output centroid index per point, size <paramref name="count"/>.</param>
    /// <param name="squaredDistances">Output squared distance to that centroid per point, size <paramref name="count"/>, or empty to skip.</param>
    /// <param name="threads">Worker threads; 0 uses <see cref="Environment.ProcessorCount"/>. Results do not depend on it.</param>
    /// <param name="cancellationToken">Token polled before every block of centroids for every block of 256 points.</param>
    /// <exception cref="ArgumentException">A size does not match or a value is NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled.</exception>
    public static void Assign(
        ReadOnlySpan<float> centroids,
        int numberOfClusters,
        int dimension,
        ReadOnlySpan<float> data,
        int count,
        Span<int> assignments,
        Span<float> squaredDistances,
        int threads = 0,
        CancellationToken cancellationToken = default) =>
        Assign(centroids, numberOfClusters, dimension, data, count, assignments, squaredDistances, threads, cancellationToken, VectorWidths.Best);

    /// <summary><see cref="Assign(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, int, Span{int}, Span{float}, int, CancellationToken)"/> at a given kernel width.</summary>
    internal static void Assign(
        ReadOnlySpan<float> centroids,
        int numberOfClusters,
        int dimension,
        ReadOnlySpan<float> data,
        int count,
        Span<int> assignments,
        Span<float> squaredDistances,
        int threads,
        CancellationToken cancellationToken,
        VectorWidth width)
    {
        if (numberOfClusters < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(numberOfClusters), numberOfClusters, "The number of clusters must be at least 1.");
        }

        CheckDimension(dimension);
        if (centroids.Length != (long)numberOfClusters * dimension)
        {
            throw new ArgumentException($"Expected numberOfClusters × dimension = {numberOfClusters} × {dimension} = {(long)numberOfClusters * dimension} centroid values, got {centroids.Length}.", nameof(centroids));
        }

        CheckData(data, count, dimension);
        if (assignments.Length != count)
        {
            throw new ArgumentException($"Expected one assignment slot per point ({count}), got {assignments.Length}.", nameof(assignments));
        }

        if (!squaredDistances.IsEmpty && squaredDistances.Length != count)
        {
            throw new ArgumentException($"Expected squaredDistances to be empty or hold one value per point ({count}), got {squaredDistances.Length}.", nameof(squaredDistances));
        }

        if (threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "Threads must be 0 (all cores) or positive.");
        }

        VectorChecks.EnsureFinite(centroids, dimension, nameof(centroids));
        VectorChecks.EnsureFinite(data, dimension, nameof(data));
        PackedBase packed = PackedBase.Create(centroids, numberOfClusters, dimension, addSquaredNorms: true, width);
        Span<float> distances = squaredDistances.IsEmpty ? new float[count] : squaredDistances;
        AssignPacked(packed, data, count, assignments, distances, ParallelBlocks.Resolve(threads), cancellationToken);
    }

    internal static KMeansResult TrainAtWidth(ReadOnlySpan<float> data, int count, int dimension, KMeansOptions options, VectorWidth width)
    {
        ArgumentNullException.ThrowIfNull(options);
        int k = options.NumberOfClusters;
        CheckOptions(options);
        CheckDimension(dimension);
        CheckData(data, count, dimension);
        if (count < k)
        {
            throw new ArgumentException(
                $"k-means needs at least NumberOfClusters ({k}) training points, got {count}. Provide more points or lower NumberOfClusters.",
                nameof(count));
        }

        VectorChecks.EnsureFinite(data, dimension, nameof(data));
        var watch = Stopwatch.StartNew();
        var random = new Random(options.Seed);
        int threads = ParallelBlocks.Resolve(options.Threads);
        CancellationToken token = options.CancellationToken;

        float[] points = Sample(data, count, dimension, k, options.MaxPointsPerCentroid, random, out int n, out string? samplingNote);
        float[] centroids = options.Initialization == KMeansInitialization.Random
            ? SeedRandom(points, n, dimension, k, random)
            : SeedPlusPlus(points, n, dimension, k, random, threads, token);

        var stats = new List<KMeansIterationStats>(options.MaxIterations);
        var assignments = new int[n];
        var distances = new float[n];
        var sizes = new int[k];
        var sums = new double[checked(k * dimension)];
        for (int iteration = 0; iteration < options.MaxIterations; iteration++)
        {
            PackedBase packed = PackedBase.Create(centroids, k, dimension, addSquaredNorms: true, width);
            AssignPacked(packed, points, n, assignments, distances, threads, token);

            double objective = 0;
            foreach (float distance in distances)
            {
                objective += distance;
            }

            Update(points, n, dimension, assignments, k, sizes, sums, centroids, threads);
            double imbalance = Imbalance(sizes, n);
            int splits = SplitEmptyClusters(centroids, sizes, n, dimension, random);
            var iterationStats = new KMeansIterationStats(iteration, objective, watch.Elapsed, imbalance, splits);
            stats.Add(iterationStats);
            options.Progress?.Report(iterationStats);
        }

        double finalObjective = stats.Count > 0 ? stats[^1].Objective : double.NaN;
        return new KMeansResult(centroids, k, dimension, stats, finalObjective, n, samplingNote);
    }

    /// <summary>Assigns points to packed centroids in blocks of <see cref="PointBlock"/> on <paramref name="threads"/> threads.</summary>
    internal static unsafe void AssignPacked(PackedBase centroids, ReadOnlySpan<float> data, int count, Span<int> assignments, Span<float> squaredDistances, int threads, CancellationToken token)
    {
        int d = centroids.Dimension;
        int blocks = (count + PointBlock - 1) / PointBlock;
        int blockColumns = AssignmentKernel.BlockColumns(centroids);
        fixed (float* pData = data, pDistances = squaredDistances)
        fixed (int* pAssignments = assignments)
        {
            nint dataAddress = (nint)pData;
            nint distancesAddress = (nint)pDistances;
            nint assignmentsAddress = (nint)pAssignments;
            ParallelBlocks.Run(
                blocks,
                threads,
                () => new AssignmentScratch(PointBlock, d, blockColumns),
                (block, scratch) =>
                {
                    int first = block * PointBlock;
                    int rows = Math.Min(PointBlock, count - first);
                    var points = new ReadOnlySpan<float>((float*)dataAddress + ((long)first * d), rows * d);
                    var blockAssignments = new Span<int>((int*)assignmentsAddress + first, rows);
                    var blockDistances = new Span<float>((float*)distancesAddress + first, rows);
                    AssignmentKernel.AssignBlock(centroids, points, rows, blockAssignments, blockDistances, scratch, token);
                },
                token);
        }
    }

    /// <summary>
    /// Returns the training points: all of <paramref name="data"/>, or a seeded uniform sample of
    /// <c>maxPointsPerCentroid × k</c> rows kept in their original order.
    /// </summary>
    private static float[] Sample(ReadOnlySpan<float> data, int count, int d, int k, int maxPointsPerCentroid, Random random, out int n, out string? note)
    {
        long limit = (long)maxPointsPerCentroid * k;
        if (maxPointsPerCentroid == 0 || count <= limit)
        {
            n = count;
            note = null;
            return data.ToArray();
        }

        n = (int)limit;
        int[] chosen = DrawDistinct(count, n, random);
        Array.Sort(chosen);
        var points = new float[checked(n * d)];
        for (int i = 0; i < n; i++)
        {
            data.Slice(chosen[i] * d, d).CopyTo(points.AsSpan(i * d, d));
        }

        note = $"Trained on a uniform sample of {n} of the {count} points (MaxPointsPerCentroid {maxPointsPerCentroid} × {k} clusters).";
        return points;
    }

    /// <summary>Returns <paramref name="take"/> distinct indices in [0, <paramref name="count"/>) by a partial Fisher–Yates shuffle.</summary>
    private static int[] DrawDistinct(int count, int take, Random random)
    {
        var indices = new int[count];
        for (int i = 0; i < count; i++)
        {
            indices[i] = i;
        }

        for (int i = 0; i < take; i++)
        {
            int j = random.Next(i, count);
            (indices[i], indices[j]) = (indices[j], indices[i]);
        }

        return indices.AsSpan(0, take).ToArray();
    }

    private static float[] SeedRandom(float[] points, int n, int d, int k, Random random)
    {
        int[] chosen = DrawDistinct(n, k, random);
        var centroids = new float[checked(k * d)];
        for (int c = 0; c < k; c++)
        {
            points.AsSpan(chosen[c] * d, d).CopyTo(centroids.AsSpan(c * d, d));
        }

        return centroids;
    }

    /// <summary>
    /// k-means++ seeding. Each point keeps its squared distance D(x) to the nearest centroid so far and that
    /// centroid's index. When a new centroid c arrives, a point whose nearest centroid c' has
    /// ‖c − c'‖² ≥ 4·D(x) cannot get closer (triangle inequality: ‖x − c‖ ≥ ‖c − c'‖ − ‖x − c'‖ ≥ √D(x)),
    /// so its distance to c is not computed. Once a few hundred centroids exist, most points are skipped.
    /// </summary>
    private static unsafe float[] SeedPlusPlus(float[] points, int n, int d, int k, Random random, int threads, CancellationToken token)
    {
        var centroids = new float[checked(k * d)];
        var nearestDistance = new float[n];
        var nearest = new int[n];
        var centroidDistances = new float[k];
        nearestDistance.AsSpan().Fill(float.PositiveInfinity);

        int next = random.Next(n);
        int blocks = (n + PointBlock - 1) / PointBlock;
        for (int c = 0; c < k; c++)
        {
            points.AsSpan(next * d, d).CopyTo(centroids.AsSpan(c * d, d));
            ReadOnlySpan<float> newest = centroids.AsSpan(c * d, d);
            for (int j = 0; j < c; j++)
            {
                centroidDistances[j] = DistanceKernels.SquaredL2(newest, centroids.AsSpan(j * d, d));
            }

            int current = c;
            ParallelBlocks.Run(
                blocks,
                threads,
                () => 0,
                (block, _) =>
                {
                    ReadOnlySpan<float> centroid = centroids.AsSpan(current * d, d);
                    int end = Math.Min(n, (block + 1) * PointBlock);
                    for (int i = block * PointBlock; i < end; i++)
                    {
                        float known = nearestDistance[i];
                        if (current > 0 && centroidDistances[nearest[i]] >= 4f * known)
                        {
                            continue;
                        }

                        float distance = DistanceKernels.SquaredL2(points.AsSpan(i * d, d), centroid);
                        if (distance < known)
                        {
                            nearestDistance[i] = distance;
                            nearest[i] = current;
                        }
                    }
                },
                token);

            if (c + 1 < k)
            {
                next = DrawProportional(nearestDistance, random);
            }
        }

        return centroids;
    }

    /// <summary>Draws an index with probability proportional to its weight, or uniformly when every weight is 0.</summary>
    private static int DrawProportional(float[] weights, Random random)
    {
        double total = 0;
        foreach (float weight in weights)
        {
            total += weight;
        }

        if (total <= 0)
        {
            // Every point coincides with a centroid (duplicated data); any point is as good as another.
            return random.Next(weights.Length);
        }

        double target = random.NextDouble() * total;
        double running = 0;
        int last = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            if (weights[i] > 0)
            {
                running += weights[i];
                last = i;
                if (running > target)
                {
                    return i;
                }
            }
        }

        return last;
    }

    /// <summary>
    /// Recomputes <paramref name="sizes"/> and the centroid of every non-empty cluster as the mean of its points,
    /// summed in point order in double precision. Threads split the dimensions, not the points, so the order
    /// of every sum is fixed. Empty clusters keep their old centroid until <see cref="SplitEmptyClusters"/>.
    /// </summary>
    private static void Update(float[] points, int n, int d, int[] assignments, int k, int[] sizes, double[] sums, float[] centroids, int threads)
    {
        Array.Clear(sizes);
        foreach (int cluster in assignments)
        {
            sizes[cluster]++;
        }

        Array.Clear(sums);
        int parts = Math.Max(1, Math.Min(threads, d / 16));
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, part =>
        {
            int from = (int)((long)d * part / parts);
            int to = (int)((long)d * (part + 1) / parts);
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> x = points.AsSpan((i * d) + from, to - from);
                Span<double> sum = sums.AsSpan((assignments[i] * d) + from, to - from);
                for (int p = 0; p < x.Length; p++)
                {
                    sum[p] += x[p];
                }
            }

            for (int c = 0; c < k; c++)
            {
                if (sizes[c] == 0)
                {
                    continue;
                }

                double inverse = 1.0 / sizes[c];
                for (int p = from; p < to; p++)
                {
                    centroids[(c * d) + p] = (float)(sums[(c * d) + p] * inverse);
                }
            }
        });
    }

    private static double Imbalance(int[] sizes, int n)
    {
        double sumOfSquares = 0;
        foreach (int size in sizes)
        {
            sumOfSquares += (double)size * size;
        }

        return sumOfSquares * sizes.Length / ((double)n * n);
    }

    /// <summary>Re-seeds each empty cluster by splitting a cluster drawn with probability (size − 1) / (n − k); returns the number of splits.</summary>
    private static int SplitEmptyClusters(float[] centroids, int[] sizes, int n, int d, Random random)
    {
        int k = sizes.Length;
        int splits = 0;
        for (int empty = 0; empty < k; empty++)
        {
            if (sizes[empty] != 0)
            {
                continue;
            }

            // n > k whenever a cluster is empty, because every point has a cluster and n >= k.
            double spare = n - k;
            int donor = 0;
            while (true)
            {
                double probability = (sizes[donor] - 1) / spare;
                if (random.NextDouble() < probability)
                {
                    break;
                }

                donor = (donor + 1) % k;
            }

            Span<float> target = centroids.AsSpan(empty * d, d);
            Span<float> source = centroids.AsSpan(donor * d, d);
            source.CopyTo(target);
            for (int p = 0; p < d; p++)
            {
                float up = 1f + SplitEpsilon;
                float down = 1f - SplitEpsilon;
                target[p] *= p % 2 == 0 ? up : down;
                source[p] *= p % 2 == 0 ? down : up;
            }

            sizes[empty] = sizes[donor] / 2;
            sizes[donor] -= sizes[empty];
            splits++;
        }

        return splits;
    }

    private static void CheckOptions(KMeansOptions options)
    {
        if (options.NumberOfClusters < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.NumberOfClusters, "KMeansOptions.NumberOfClusters must be at least 1.");
        }

        if (options.MaxIterations < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxIterations, "KMeansOptions.MaxIterations must be 0 or positive.");
        }

        if (!Enum.IsDefined(options.Initialization))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Initialization, "KMeansOptions.Initialization must be KMeansPlusPlus or Random.");
        }

        if (options.MaxPointsPerCentroid < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxPointsPerCentroid, "KMeansOptions.MaxPointsPerCentroid must be 0 (no sampling) or positive.");
        }

        if (options.Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Threads, "KMeansOptions.Threads must be 0 (all cores) or positive.");
        }
    }

    private static void CheckDimension(int dimension)
    {
        if (dimension < 1 || dimension > VectorChecks.MaxDimension)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Dimension must be in [1, {VectorChecks.MaxDimension}].");
        }
    }

    private static void CheckData(ReadOnlySpan<float> data, int count, int dimension)
    {
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The point count must be 0 or positive.");
        }

        if (data.Length != (long)count * dimension)
        {
            throw new ArgumentException($"Expected count × dimension = {count} × {dimension} = {(long)count * dimension} values, got {data.Length}.", nameof(data));
        }
    }
}
