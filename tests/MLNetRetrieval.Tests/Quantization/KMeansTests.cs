using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Tests.Quantization;

public class KMeansTests
{
    private const double ObjectiveTolerance = 1e-6;

    public static IEnumerable<object[]> Widths() => VectorWidths.Available().Select(width => new object[] { (int)width });

    [Fact]
    public void ObjectiveNeverIncreases()
    {
        float[] data = QuantizationTestData.Clustered(3000, 16, 40, seed: 1);
        var result = KMeans.Train(data, 3000, 16, new KMeansOptions { NumberOfClusters = 32, MaxIterations = 15, Threads = 2 });
        Assert.Equal(15, result.Iterations.Count);
        for (int i = 1; i < result.Iterations.Count; i++)
        {
            double previous = result.Iterations[i - 1].Objective;
            Assert.True(result.Iterations[i].Objective <= previous * (1 + ObjectiveTolerance), $"iteration {i}: {result.Iterations[i].Objective} > {previous}");
        }
    }

    [Theory]
    [InlineData(KMeansInitialization.KMeansPlusPlus)]
    [InlineData(KMeansInitialization.Random)]
    public void FixedSeedIgnoresThreadCount(KMeansInitialization initialization)
    {
        float[] data = QuantizationTestData.Clustered(5000, 24, 50, seed: 2);
        KMeansResult one = KMeans.Train(data, 5000, 24, new KMeansOptions { NumberOfClusters = 64, MaxIterations = 8, Threads = 1, Initialization = initialization, MaxPointsPerCentroid = 50 });
        KMeansResult two = KMeans.Train(data, 5000, 24, new KMeansOptions { NumberOfClusters = 64, MaxIterations = 8, Threads = 2, Initialization = initialization, MaxPointsPerCentroid = 50 });
        Assert.Equal(one.Centroids, two.Centroids);
        Assert.Equal(one.Objective, two.Objective);
    }

    [Fact]
    public void PlusPlusBeatsRandomSeeding()
    {
        // Well separated clusters of very different sizes: random seeding tends to put several centroids in
        // the big clusters and none in the small ones, and Lloyd iterations cannot move them across.
        const int D = 8, K = 20;
        var random = new Random(3);
        var rows = new List<float>();
        for (int c = 0; c < K; c++)
        {
            int size = c < 4 ? 800 : 20;
            for (int i = 0; i < size; i++)
            {
                for (int p = 0; p < D; p++)
                {
                    rows.Add((c * 100f * (p == c % D ? 1 : 0)) + (c * 37f * (p == (c + 3) % D ? 1 : 0)) + (float)QuantizationTestData.Gaussian(random));
                }
            }
        }

        float[] data = rows.ToArray();
        int n = data.Length / D;
        double plusPlus = 0, uniform = 0;
        for (int seed = 0; seed < 5; seed++)
        {
            plusPlus += KMeans.Train(data, n, D, new KMeansOptions { NumberOfClusters = K, MaxIterations = 10, Seed = seed }).Objective;
            uniform += KMeans.Train(data, n, D, new KMeansOptions { NumberOfClusters = K, MaxIterations = 10, Seed = seed, Initialization = KMeansInitialization.Random }).Objective;
        }

        Assert.True(plusPlus <= uniform, $"k-means++ {plusPlus} > random {uniform}");
    }

    [Fact]
    public void DuplicatePointsGiveFiniteCentroids()
    {
        float[] distinct = { 1, 2, 3, -4, 5, 0.5f, 0, 0, 7 };
        var data = new float[3000 * 3];
        for (int i = 0; i < 3000; i++)
        {
            distinct.AsSpan((i % 3) * 3, 3).CopyTo(data.AsSpan(i * 3, 3));
        }

        foreach (KMeansInitialization initialization in new[] { KMeansInitialization.KMeansPlusPlus, KMeansInitialization.Random })
        {
            var result = KMeans.Train(data, 3000, 3, new KMeansOptions { NumberOfClusters = 8, MaxIterations = 5, Initialization = initialization });
            Assert.All(result.Centroids, value => Assert.True(float.IsFinite(value)));
            Assert.True(double.IsFinite(result.Objective));
        }
    }

    [Fact]
    public void EmptyClustersAreSplit()
    {
        float[] distinct = { 0, 0, 10, 10, 20, 0 };
        var data = new float[300 * 2];
        for (int i = 0; i < 300; i++)
        {
            distinct.AsSpan((i % 3) * 2, 2).CopyTo(data.AsSpan(i * 2, 2));
        }

        var result = KMeans.Train(data, 300, 2, new KMeansOptions { NumberOfClusters = 5, MaxIterations = 3 });
        Assert.True(result.Iterations.Sum(s => s.Splits) > 0);
    }

    [Fact]
    public void SamplingCapsTrainingPoints()
    {
        float[] data = QuantizationTestData.Clustered(2000, 4, 10, seed: 4);
        var result = KMeans.Train(data, 2000, 4, new KMeansOptions { NumberOfClusters = 10, MaxIterations = 2, MaxPointsPerCentroid = 39 });
        Assert.Equal(390, result.SampledPoints);
        Assert.Contains("390", result.SamplingNote);
        var full = KMeans.Train(data, 2000, 4, new KMeansOptions { NumberOfClusters = 10, MaxIterations = 2 });
        Assert.Null(full.SamplingNote);
    }

    [Fact]
    public void ProgressReportsEveryIteration()
    {
        float[] data = QuantizationTestData.Clustered(500, 4, 5, seed: 5);
        var reported = new List<KMeansIterationStats>();
        var progress = new SynchronousProgress<KMeansIterationStats>(reported.Add);
        var result = KMeans.Train(data, 500, 4, new KMeansOptions { NumberOfClusters = 5, MaxIterations = 4, Progress = progress });
        Assert.Equal(result.Iterations, reported);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void AssignMatchesScalarTwin(int widthBits)
    {
        var width = (VectorWidth)widthBits;
        var random = new Random(6);
        foreach (var (n, k, d) in new[] { (1, 1, 1), (300, 37, 3), (257, 100, 49), (40, 300, 784) })
        {
            // Small integers make exact ties common, which checks the lower-index rule.
            float[] data = Enumerable.Range(0, n * d).Select(_ => (float)random.Next(-2, 3)).ToArray();
            float[] centroids = Enumerable.Range(0, k * d).Select(_ => (float)random.Next(-2, 3)).ToArray();
            var expected = new int[n];
            var expectedDistances = new float[n];
            AssignmentKernel.AssignScalar(centroids, k, d, data, n, expected, expectedDistances);
            var actual = new int[n];
            var actualDistances = new float[n];
            KMeans.Assign(centroids, k, d, data, n, actual, actualDistances, 2, default, width);
            Assert.Equal(expected, actual);
            Assert.Equal(expectedDistances, actualDistances);
        }
    }

    [Fact]
    public void AssignPicksLowerIndexOnTies()
    {
        float[] centroids = { 1, 0, -1, 0, 1, 0 };
        float[] data = { 0, 0 };
        var assignments = new int[1];
        KMeans.Assign(centroids, 3, 2, data, 1, assignments, Span<float>.Empty);
        Assert.Equal(0, assignments[0]);
    }

    [Fact]
    public void TooFewPointsNamesBothCounts()
    {
        var error = Assert.Throws<ArgumentException>(() => KMeans.Train(new float[10 * 2], 10, 2, new KMeansOptions { NumberOfClusters = 11 }));
        Assert.Contains("11", error.Message);
        Assert.Contains("got 10", error.Message);
    }

    [Fact]
    public void NonFiniteValueNamesRowAndColumn()
    {
        var data = new float[20 * 3];
        data[(7 * 3) + 2] = float.NaN;
        var error = Assert.Throws<ArgumentException>(() => KMeans.Train(data, 20, 3, new KMeansOptions { NumberOfClusters = 2 }));
        Assert.Contains("Row 7, column 2 is NaN", error.Message);
    }

    [Fact]
    public void InvalidSizesAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Train(new float[4], 2, 2, new KMeansOptions { NumberOfClusters = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Train(new float[4], 4, 0, new KMeansOptions { NumberOfClusters = 1 }));
        Assert.Throws<ArgumentException>(() => KMeans.Train(new float[5], 2, 2, new KMeansOptions { NumberOfClusters = 1 }));
    }

    [Fact]
    public void CanceledTokenStopsTraining()
    {
        float[] data = QuantizationTestData.Clustered(1000, 4, 5, seed: 7);
        using var source = new CancellationTokenSource();
        source.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => KMeans.Train(data, 1000, 4, new KMeansOptions { NumberOfClusters = 5, CancellationToken = source.Token, Threads = 2 }));
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
