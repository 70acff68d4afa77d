namespace MLNetRetrieval.Quantization;

/// <summary>How <see cref="KMeans.Train"/> picks the starting centroids. Saved files store the byte value.</summary>
public enum KMeansInitialization : byte
{
    /// <summary>
    /// k-means++ (Arthur and Vassilvitskii, "k-means++: The Advantages of Careful Seeding", SODA 2007): each new
    /// centroid is a point drawn with probability proportional to its squared distance to the nearest centroid so far.
    /// </summary>
    KMeansPlusPlus = 0,

    /// <summary>k distinct points drawn uniformly at random, as FAISS does.</summary>
    Random = 1,
}

/// <summary>Settings of one <see cref="KMeans.Train"/> call.</summary>
public sealed class KMeansOptions
{
    /// <summary>Number of clusters k, at least 1 and at most the number of training points.</summary>
    public int NumberOfClusters { get; set; }

    /// <summary>Lloyd iterations (assignment then update); 0 returns the initial centroids. Default 25.</summary>
    public int MaxIterations { get; set; } = 25;

    /// <summary>Seeding method. Default <see cref="KMeansInitialization.KMeansPlusPlus"/>.</summary>
    public KMeansInitialization Initialization { get; set; } = KMeansInitialization.KMeansPlusPlus;

    /// <summary>Seed of every random choice (sampling, seeding, splits). The result does not depend on <see cref="Threads"/>.</summary>
    public int Seed { get; set; } = 1234;

    /// <summary>
    /// Training uses at most this many points per cluster (FAISS <c>max_points_per_centroid</c>): with more than
    /// <c>MaxPointsPerCentroid × k</c> points, a seeded uniform sample of that size is used. 0 disables sampling.
    /// Default 256.
    /// </summary>
    public int MaxPointsPerCentroid { get; set; } = 256;

    /// <summary>Worker threads; 0 (the default) uses <see cref="Environment.ProcessorCount"/>.</summary>
    public int Threads { get; set; }

    /// <summary>Receives the statistics of each iteration from the calling thread, after the assignment step.</summary>
    public IProgress<KMeansIterationStats>? Progress { get; set; }

    /// <summary>Token polled before every block of points in the assignment and seeding steps.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Returns a copy of these options.</summary>
    internal KMeansOptions Clone() => (KMeansOptions)MemberwiseClone();
}

/// <summary>Statistics of one Lloyd iteration.</summary>
/// <param name="Iteration">Zero-based iteration number.</param>
/// <param name="Objective">Sum over the training points of the squared distance to the nearest centroid, before the update.</param>
/// <param name="Elapsed">Time since training started, seeding included.</param>
/// <param name="Imbalance">k · Σ size² / n², 1 when all clusters have the same size (FAISS <c>imbalance_factor</c>).</param>
/// <param name="Splits">Empty clusters re-seeded in this iteration by splitting a large one.</param>
public readonly record struct KMeansIterationStats(int Iteration, double Objective, TimeSpan Elapsed, double Imbalance, int Splits);

/// <summary>Centroids and statistics returned by <see cref="KMeans.Train"/>.</summary>
public sealed class KMeansResult
{
    internal KMeansResult(float[] centroids, int numberOfClusters, int dimension, IReadOnlyList<KMeansIterationStats> iterations, double objective, int sampledPoints, string? samplingNote)
    {
        Centroids = centroids;
        NumberOfClusters = numberOfClusters;
        Dimension = dimension;
        Iterations = iterations;
        Objective = objective;
        SampledPoints = sampledPoints;
        SamplingNote = samplingNote;
    }

    /// <summary>Centroids, row-major, size <see cref="NumberOfClusters"/> × <see cref="Dimension"/>.</summary>
    public float[] Centroids { get; }

    /// <summary>Number of clusters k.</summary>
    public int NumberOfClusters { get; }

    /// <summary>Length of every centroid.</summary>
    public int Dimension { get; }

    /// <summary>Statistics of every iteration, in order.</summary>
    public IReadOnlyList<KMeansIterationStats> Iterations { get; }

    /// <summary>Objective of the last iteration (its assignment step), or NaN when no iteration ran.</summary>
    public double Objective { get; }

    /// <summary>Number of points training used: all of them, or the sample size.</summary>
    public int SampledPoints { get; }

    /// <summary>Says that training used a sample and how large it was; null when it used every point.</summary>
    public string? SamplingNote { get; }
}
