using MLNetRetrieval.MetricLearning.Sampling;
using Xunit;

namespace MLNetRetrieval.Tests.MetricLearning.Sampling;

public class BatchSamplerTests
{
    [Fact]
    public void ShuffledEpochCoversEveryRowOnce()
    {
        var sampler = new ShuffledBatchSampler(103, 10, new Random(3));
        IReadOnlyList<int[]> batches = sampler.NextEpoch();
        Assert.Equal(11, batches.Count);
        Assert.Equal(sampler.BatchesPerEpoch, batches.Count);
        Assert.Equal(Enumerable.Range(0, 103), batches.SelectMany(batch => batch).Order());
    }

    [Fact]
    public void ShuffledDropsSingleRowBatch()
    {
        var sampler = new ShuffledBatchSampler(21, 10, new Random(3));
        IReadOnlyList<int[]> batches = sampler.NextEpoch();
        Assert.Equal(2, batches.Count);
        Assert.Equal(sampler.BatchesPerEpoch, batches.Count);
    }

    [Fact]
    public void ShuffledEpochsDifferButReplay()
    {
        var first = new ShuffledBatchSampler(50, 8, new Random(4));
        var second = new ShuffledBatchSampler(50, 8, new Random(4));
        int[] epochOne = first.NextEpoch().SelectMany(batch => batch).ToArray();
        int[] epochTwo = first.NextEpoch().SelectMany(batch => batch).ToArray();
        Assert.NotEqual(epochOne, epochTwo);
        Assert.Equal(epochOne, second.NextEpoch().SelectMany(batch => batch).ToArray());
    }

    [Fact]
    public void ClassBalancedVisitsRowsEvenly()
    {
        // 4 classes of 12 rows, P = 2, K = 3: 8 batches per epoch, so each class gets 12 draws on average.
        int[] labels = Enumerable.Range(0, 48).Select(i => i % 4).ToArray();
        var sampler = new ClassBalancedBatchSampler(labels, 4, classesPerBatch: 2, rowsPerClass: 3, new Random(5));
        var draws = new int[48];
        for (int epoch = 0; epoch < 25; epoch++)
        {
            foreach (int[] batch in sampler.NextEpoch())
            {
                Assert.Equal(6, batch.Length);
                foreach (int row in batch)
                {
                    draws[row]++;
                }
            }
        }

        // Rows of one class are drawn from a shuffled queue, so their counts differ by at most one cycle.
        for (int c = 0; c < 4; c++)
        {
            int[] counts = Enumerable.Range(0, 48).Where(row => labels[row] == c).Select(row => draws[row]).ToArray();
            Assert.True(counts.Max() - counts.Min() <= 1, $"class {c}: draws per row from {counts.Min()} to {counts.Max()}");
        }
    }

    [Fact]
    public void ClassBalancedCapsPAtClassCount()
    {
        int[] labels = [0, 0, 0, 1, 1, 1];
        var sampler = new ClassBalancedBatchSampler(labels, 2, classesPerBatch: 8, rowsPerClass: 2, new Random(6));
        int[] batch = sampler.NextEpoch()[0];
        Assert.Equal(4, batch.Length);
        Assert.Equal(2, batch.Select(row => labels[row]).Distinct().Count());
    }
}
