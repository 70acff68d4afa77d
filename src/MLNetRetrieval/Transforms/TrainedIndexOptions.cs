using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Settings shared by the index estimators that learn codebooks or coarse centroids from the
/// collection with k-means before adding it: product quantization and IVF.
/// </summary>
public abstract class TrainedIndexOptions : NeighborSearchOptions
{
    /// <summary>Default values of <see cref="TrainedIndexOptions"/>.</summary>
    public new static class Defaults
    {
        /// <summary>Default number of collection rows that k-means trains on: 65536, which is 256 points per centroid for the 256 centroids of an 8-bit subquantizer.</summary>
        public const int TrainingSampleSize = 65536;
    }

    /// <summary>
    /// Rows drawn uniformly at random (seeded by <see cref="Seed"/>) from the collection to train
    /// k-means on; 0 trains on every row. Every row is added to the index either way.
    /// </summary>
    public int TrainingSampleSize { get; set; } = Defaults.TrainingSampleSize;

    /// <summary>
    /// Seed of the training sample and of k-means. Null draws one from the <see cref="MLContext"/>'s
    /// random source, so <c>new MLContext(seed: n)</c> reproduces the index.
    /// </summary>
    public int? Seed { get; set; }

    internal new void Validate()
    {
        base.Validate();
        if (TrainingSampleSize < 0)
            throw new ArgumentOutOfRangeException(nameof(TrainingSampleSize), TrainingSampleSize, "TrainingSampleSize must be 0 (every row) or positive.");
    }
}

/// <summary>Seed resolution and training samples for the trained index estimators and the PQ transform.</summary>
internal static class TrainingSamples
{
    /// <summary>Returns <paramref name="seed"/>, or draws one from a host registered on <paramref name="context"/> (ML.NET derives its seed from the context's seed).</summary>
    public static int ResolveSeed(MLContext context, int? seed, string hostName)
    {
        if (seed is { } fixedSeed)
            return fixedSeed;
        IHost host = ((IHostEnvironment)context).Register(hostName);
        return host.Rand.Next();
    }

    /// <summary>
    /// Returns <paramref name="sampleSize"/> rows of <paramref name="vectors"/> (count × d, row-major)
    /// drawn without replacement and kept in collection order, or <paramref name="vectors"/> itself
    /// when the sample size is 0 or covers every row.
    /// </summary>
    public static float[] Draw(float[] vectors, int count, int dimension, int sampleSize, int seed, out int sampled)
    {
        if (sampleSize == 0 || sampleSize >= count)
        {
            sampled = count;
            return vectors;
        }

        // Partial Fisher–Yates shuffle of the row numbers: the first sampleSize entries are the sample.
        var random = new Random(seed);
        var rows = new int[count];
        for (int i = 0; i < count; i++)
            rows[i] = i;
        for (int i = 0; i < sampleSize; i++)
        {
            int j = random.Next(i, count);
            (rows[i], rows[j]) = (rows[j], rows[i]);
        }

        Array.Sort(rows, 0, sampleSize);
        var sample = new float[checked(sampleSize * dimension)];
        for (int i = 0; i < sampleSize; i++)
            vectors.AsSpan(rows[i] * dimension, dimension).CopyTo(sample.AsSpan(i * dimension, dimension));
        sampled = sampleSize;
        return sample;
    }
}
