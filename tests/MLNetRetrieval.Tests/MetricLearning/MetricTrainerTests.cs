using MLNetRetrieval.MetricLearning;
using Xunit;

namespace MLNetRetrieval.Tests.MetricLearning;

public class MetricTrainerTests
{
    private static readonly Lazy<(float[] Features, int[] Labels)> Sample = new(() => FashionMnistSample.Read(4000));

    [Fact]
    public void TrainedHeadBeatsRawPixels()
    {
        var (features, labels) = Sample.Value;
        const int TrainRows = 3000;
        var options = SmallOptions(epochs: 4);
        EmbeddingHead head = MetricTrainer.Train(features.AsSpan(0, TrainRows * FashionMnistSample.Dimension), FashionMnistSample.Dimension, labels.AsSpan(0, TrainRows), new SoftmaxTestLoss(), options);

        // Leave-one-out MAP@R on the 1000 rows after the training rows.
        float[] heldOut = features.AsSpan(TrainRows * FashionMnistSample.Dimension).ToArray();
        int[] heldLabels = labels.AsSpan(TrainRows).ToArray();
        var embedded = new float[heldLabels.Length * head.OutputDimension];
        head.Transform(heldOut, embedded, threads: 2);
        double trained = ValidationMetrics.MapAtR(embedded, head.OutputDimension, heldLabels, 10, 2, CancellationToken.None);
        double raw = ValidationMetrics.MapAtR(heldOut, FashionMnistSample.Dimension, heldLabels, 10, 2, CancellationToken.None);
        Assert.True(trained > raw + 0.05, $"MAP@R trained {trained:F4}, raw pixels {raw:F4}.");
    }

    [Fact]
    public void SameSeedGivesSameHead()
    {
        var (features, labels) = Small(800);
        byte[] first = Save(MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), SmallOptions(epochs: 2)));
        byte[] second = Save(MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), SmallOptions(epochs: 2)));
        Assert.Equal(first, second);
    }

    [Fact]
    public void OtherSeedGivesOtherHead()
    {
        var (features, labels) = Small(800);
        byte[] first = Save(MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), SmallOptions(epochs: 1)));
        var options = SmallOptions(epochs: 1);
        options.Seed = 2;
        byte[] second = Save(MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), options));
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void ThreadCountKeepsHeadBits()
    {
        var (features, labels) = Small(800);
        var oneThread = SmallOptions(epochs: 2);
        oneThread.Threads = 1;
        var twoThreads = SmallOptions(epochs: 2);
        twoThreads.Threads = 2;
        byte[] first = Save(MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), oneThread));
        byte[] second = Save(MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), twoThreads));
        Assert.Equal(first, second);
    }

    [Fact]
    public void ProgressReportsEveryEpoch()
    {
        var (features, labels) = Small(800);
        var events = new List<MetricEpochProgress>();
        var options = SmallOptions(epochs: 3);
        MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), options, new ListProgress(events));
        Assert.Equal([1, 2, 3], events.Select(e => e.Epoch));
        Assert.True(events[2].TrainingLoss < events[0].TrainingLoss, $"loss {events[0].TrainingLoss} then {events[2].TrainingLoss}");
        Assert.All(events, e => Assert.InRange(e.ValidationMapAtR, 0.0, 1.0));
        Assert.True(events[2].LearningRate < events[0].LearningRate, "the cosine schedule lowers the rate");
    }

    [Fact]
    public void NoValidationReportsNaN()
    {
        var (features, labels) = Small(400);
        var events = new List<MetricEpochProgress>();
        var options = SmallOptions(epochs: 1);
        options.ValidationFraction = 0;
        MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), options, new ListProgress(events));
        Assert.True(double.IsNaN(events[0].ValidationMapAtR));
    }

    [Fact]
    public void EarlyStoppingReturnsBestEpoch()
    {
        var (features, labels) = Small(600);
        var events = new List<MetricEpochProgress>();
        var options = SmallOptions(epochs: 25);
        options.ValidationFraction = 0.3;
        options.EarlyStoppingPatience = 2;
        options.LearningRate = 0.2f;
        options.Schedule = LearningRateScheduleKind.Constant;
        EmbeddingHead head = MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), options, new ListProgress(events));

        // Rebuild the validation split the way the trainer draws it, and score the returned head on it.
        int[] order = MetricTrainer.ShuffleRows(new Random(options.Seed), labels.Length);
        int validationCount = (int)(labels.Length * options.ValidationFraction);
        int[] rows = order.Take(validationCount).ToArray();
        float[] validation = rows.SelectMany(row => features.AsSpan(row * FashionMnistSample.Dimension, FashionMnistSample.Dimension).ToArray()).ToArray();
        var embedded = new float[validationCount * head.OutputDimension];
        head.Transform(validation, embedded, threads: 2);
        double mapAtR = ValidationMetrics.MapAtR(embedded, head.OutputDimension, rows.Select(row => labels[row]).ToArray(), 10, 2, CancellationToken.None);

        Assert.True(events.Count < 25, $"training ran all {events.Count} epochs");
        Assert.Equal(events.Max(e => e.ValidationMapAtR), mapAtR, 12);
    }

    [Fact]
    public void CancellationStopsBetweenBatches()
    {
        var (features, labels) = Small(800);
        using var source = new CancellationTokenSource();
        var progress = new ListProgress([], _ => source.Cancel());
        var options = SmallOptions(epochs: 5);
        Assert.Throws<OperationCanceledException>(() =>
            MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), options, progress, source.Token));
        Assert.Single(progress.Events);
    }

    [Fact]
    public void AnyIntegerLabelsMapInOrder()
    {
        var (features, labels) = Small(600);
        int[] spread = labels.Select(label => (label * 1000) - 4000).ToArray();
        byte[] mapped = Save(MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), SmallOptions(epochs: 1)));
        byte[] original = Save(MetricTrainer.Train(features, FashionMnistSample.Dimension, spread, new SoftmaxTestLoss(), SmallOptions(epochs: 1)));
        Assert.Equal(mapped, original);
    }

    [Fact]
    public void ClassBalancedBatchesArePByK()
    {
        var (features, labels) = Small(800);
        var loss = new SoftmaxTestLoss(classBalanced: true);
        var options = SmallOptions(epochs: 1);
        options.BatchSize = 24;
        options.SamplesPerClass = 4;
        MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, loss, options);
        Assert.Equal(720 / 24, loss.Batches.Count);
        foreach (int[] batch in loss.Batches)
        {
            var counts = batch.GroupBy(label => label).Select(group => group.Count()).ToArray();
            Assert.Equal(6, counts.Length);
            Assert.All(counts, count => Assert.Equal(4, count));
        }

        Assert.Equal(loss.Batches.Count, loss.StepsCompleted);
    }

    [Fact]
    public void NormalizedLossGivesUnitEmbeddings()
    {
        var (features, labels) = Small(400);
        EmbeddingHead head = MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(normalized: true), SmallOptions(epochs: 1));
        var embedded = new float[10 * head.OutputDimension];
        head.Transform(features.AsSpan(0, 10 * FashionMnistSample.Dimension), embedded);
        Assert.True(head.IsNormalized);
        for (int r = 0; r < 10; r++)
        {
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(embedded.AsSpan(r * head.OutputDimension, head.OutputDimension));
            Assert.Equal(1f, norm, 5);
        }
    }

    [Fact]
    public void AdamWithBatchNormTrains()
    {
        var (features, labels) = Small(800);
        var events = new List<MetricEpochProgress>();
        var options = SmallOptions(epochs: 3);
        options.Optimizer = OptimizerKind.Adam;
        options.LearningRate = 1e-3f;
        options.BatchNormalization = true;
        options.DropoutRate = 0.1f;
        options.WeightDecayMode = WeightDecayMode.Decoupled;
        options.WarmupEpochs = 1;
        options.MaxGradientNorm = 5f;
        MetricTrainer.Train(features, FashionMnistSample.Dimension, labels, new SoftmaxTestLoss(), options, new ListProgress(events));
        Assert.True(events[2].TrainingLoss < events[0].TrainingLoss, $"loss {events[0].TrainingLoss} then {events[2].TrainingLoss}");
    }

    [Fact]
    public void SingleClassRejected()
    {
        var features = new float[10 * 4];
        var error = Assert.Throws<ArgumentException>(() => MetricTrainer.Train(features, 4, new int[10], new SoftmaxTestLoss(), SmallOptions(epochs: 1)));
        Assert.Contains("at least 2 classes", error.Message);
    }

    [Fact]
    public void NaNFeatureRejected()
    {
        var features = new float[10 * 4];
        features[13] = float.NaN;
        int[] labels = Enumerable.Range(0, 10).Select(i => i % 2).ToArray();
        var error = Assert.Throws<ArgumentException>(() => MetricTrainer.Train(features, 4, labels, new SoftmaxTestLoss(), SmallOptions(epochs: 1)));
        Assert.Contains("Feature 1 of row 3", error.Message);
    }

    [Fact]
    public void InvalidOptionNamesSetting()
    {
        var options = SmallOptions(epochs: 1);
        options.DropoutRate = 1f;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => MetricTrainer.Train(new float[40], 4, Enumerable.Range(0, 10).Select(i => i % 2).ToArray(), new SoftmaxTestLoss(), options));
        Assert.Equal("DropoutRate", error.ParamName);
    }

    private static MetricTrainerOptions SmallOptions(int epochs) => new()
    {
        HiddenLayers = [64],
        EmbeddingDimension = 32,
        Epochs = epochs,
        BatchSize = 64,
        LearningRate = 0.05f,
        ValidationFraction = 0.1,
        Threads = 2,
        Seed = 5,
    };

    private static (float[] Features, int[] Labels) Small(int rows)
    {
        var (features, labels) = Sample.Value;
        return (features.AsSpan(0, rows * FashionMnistSample.Dimension).ToArray(), labels.AsSpan(0, rows).ToArray());
    }

    private static byte[] Save(EmbeddingHead head)
    {
        using var stream = new MemoryStream();
        head.Save(stream);
        return stream.ToArray();
    }

    private sealed class ListProgress(List<MetricEpochProgress> events, Action<MetricEpochProgress>? onReport = null) : IProgress<MetricEpochProgress>
    {
        public List<MetricEpochProgress> Events => events;

        public void Report(MetricEpochProgress value)
        {
            events.Add(value);
            onReport?.Invoke(value);
        }
    }
}
