using System.Diagnostics;
using MLNetRetrieval.MetricLearning.Network;
using MLNetRetrieval.MetricLearning.Optimization;
using MLNetRetrieval.MetricLearning.Sampling;

namespace MLNetRetrieval.MetricLearning;

/// <summary>Progress after one epoch.</summary>
/// <param name="Epoch">Epochs done, from 1.</param>
/// <param name="TrainingLoss">Mean loss over the epoch's batches.</param>
/// <param name="ValidationMapAtR">MAP@R on the validation rows, or NaN when there are none.</param>
/// <param name="LearningRate">Learning rate at the end of the epoch.</param>
/// <param name="Elapsed">Wall time of the epoch.</param>
public readonly record struct MetricEpochProgress(int Epoch, double TrainingLoss, double ValidationMapAtR, double LearningRate, TimeSpan Elapsed);

/// <summary>Trains an <see cref="EmbeddingHead"/> with a <see cref="MetricLoss"/>.</summary>
/// <remarks>
/// <para>
/// Each step gathers a batch (class-balanced P × K when <see cref="MetricLoss.PrefersClassBalancedBatches"/>,
/// shuffled rows otherwise), runs the network forward in training mode, lets the loss compute its value
/// and d loss / d embeddings, back-propagates, clips, and lets the optimizer update the network's and the
/// loss's parameters with the scheduled learning rate.
/// </para>
/// <para>
/// Validation rows are a seeded random share of the rows (<see cref="MetricTrainerOptions.ValidationFraction"/>),
/// left out of training. After each epoch every validation row queries the other validation rows by squared
/// L2 distance between embeddings, and <see cref="Evaluation.RankingEvaluator"/> reports MAP@R with R = the
/// number of other validation rows of its class.
/// </para>
/// <para>
/// Reproducibility: every random choice comes from one generator seeded with
/// <see cref="MetricTrainerOptions.Seed"/>, and every matrix product sums in a fixed order whatever the
/// thread count, so the same seed, options and data give the same head. The loss must be deterministic too.
/// </para>
/// </remarks>
public static class MetricTrainer
{
    /// <summary>Trains a head.</summary>
    /// <param name="features">Row-major training features, count by dimension.</param>
    /// <param name="dimension">Length of a feature vector.</param>
    /// <param name="labels">Class label of each row, any integers.</param>
    /// <param name="loss">The loss; it is initialized by the trainer.</param>
    /// <param name="options">Network, optimizer and schedule settings.</param>
    /// <param name="progress">Receives one event per epoch; may be null.</param>
    /// <param name="cancellationToken">Stops training.</param>
    /// <returns>The trained head (the best one on validation MAP@R when early stopping is on).</returns>
    /// <exception cref="ArgumentException">
    /// The shapes disagree, a feature is NaN or infinite, fewer than two classes or too few rows remain
    /// for training, or an option is out of range.
    /// </exception>
    /// <exception cref="InvalidOperationException">The loss returned a value that is not finite.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; checked before each batch.</exception>
    public static EmbeddingHead Train(ReadOnlySpan<float> features, int dimension, ReadOnlySpan<int> labels, MetricLoss loss, MetricTrainerOptions options,
        IProgress<MetricEpochProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        CheckData(features, dimension, labels);
        int threads = options.EffectiveThreads;
        int[] classes = MapLabels(labels, out int classCount);

        var random = new Random(options.Seed);
        int rowCount = labels.Length;
        int[] order = ShuffleRows(random, rowCount);
        int validationCount = (int)(rowCount * options.ValidationFraction);
        int trainCount = rowCount - validationCount;
        if (trainCount < 2)
        {
            throw new ArgumentException($"Only {trainCount} rows remain for training after holding out {validationCount} for validation; provide more rows or lower ValidationFraction.", nameof(labels));
        }

        int[] trainRows = order.AsSpan(validationCount).ToArray();
        Array.Sort(trainRows);
        int[] trainClasses = trainRows.Select(row => classes[row]).ToArray();
        float[] validationFeatures = Gather(features, dimension, order.AsSpan(0, validationCount));
        int[] validationClasses = order.Take(validationCount).Select(row => classes[row]).ToArray();

        bool normalize = loss.RequiresNormalizedEmbeddings || options.NormalizeOutput;
        FeedForwardNetwork network = FeedForwardNetwork.Build(dimension, options, normalize, random);
        loss.Initialize(options.EmbeddingDimension, classCount, random);
        Optimizer optimizer = Optimizer.Create([.. network.Parameters, .. loss.Parameters], options);
        BatchSampler sampler = CreateSampler(loss, options, trainClasses, classCount, random);
        var schedule = new LearningRateSchedule(options, sampler.BatchesPerEpoch);

        int maxBatch = Math.Max(options.BatchSize, ClassesPerBatch(options) * options.SamplesPerClass);
        var batchInput = new float[checked(maxBatch * dimension)];
        var batchLabels = new int[maxBatch];
        var embeddingGradient = new float[checked(maxBatch * options.EmbeddingDimension)];

        FeedForwardNetwork? best = null;
        double bestMapAtR = double.NegativeInfinity;
        int epochsWithoutImprovement = 0;
        long step = 0;
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var watch = Stopwatch.StartNew();
            double lossSum = 0;
            float learningRate = schedule.At(step);
            IReadOnlyList<int[]> batches = sampler.NextEpoch();
            foreach (int[] batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int rows = batch.Length;
                for (int i = 0; i < rows; i++)
                {
                    int row = trainRows[batch[i]];
                    features.Slice(row * dimension, dimension).CopyTo(batchInput.AsSpan(i * dimension, dimension));
                    batchLabels[i] = trainClasses[batch[i]];
                }

                optimizer.ClearGradients();
                ReadOnlySpan<float> embeddings = network.ForwardTraining(batchInput, rows, threads);
                Span<float> gradient = embeddingGradient.AsSpan(0, rows * options.EmbeddingDimension);
                float value = loss.Compute(embeddings, batchLabels.AsSpan(0, rows), gradient);
                if (!float.IsFinite(value))
                {
                    throw new InvalidOperationException($"{loss.GetType().Name} returned {value} at epoch {epoch}, step {step + 1}; lower LearningRate or set MaxGradientNorm.");
                }

                network.Backward(batchInput, gradient, rows, threads);
                learningRate = schedule.At(step);
                optimizer.Step(learningRate);
                step++;
                loss.OnStepCompleted(step);
                lossSum += value;
            }

            double mapAtR = validationCount > 0
                ? ValidationMetrics.MapAtR(network, validationFeatures, validationClasses, classCount, threads, cancellationToken)
                : double.NaN;
            watch.Stop();
            progress?.Report(new MetricEpochProgress(epoch, lossSum / Math.Max(1, batches.Count), mapAtR, learningRate, watch.Elapsed));

            if (options.EarlyStoppingPatience > 0)
            {
                if (mapAtR > bestMapAtR)
                {
                    bestMapAtR = mapAtR;
                    best = network.Clone();
                    epochsWithoutImprovement = 0;
                }
                else if (++epochsWithoutImprovement >= options.EarlyStoppingPatience)
                {
                    break;
                }
            }
        }

        return new EmbeddingHead(best ?? network.Clone());
    }

    /// <summary>
    /// Returns the row indices in the seeded order whose first ⌊rows · ValidationFraction⌋ entries are the
    /// validation rows. It is the first draw from the generator seeded with <see cref="MetricTrainerOptions.Seed"/>.
    /// </summary>
    internal static int[] ShuffleRows(Random random, int rowCount)
    {
        int[] order = Enumerable.Range(0, rowCount).ToArray();
        random.Shuffle(order);
        return order;
    }

    private static void CheckData(ReadOnlySpan<float> features, int dimension, ReadOnlySpan<int> labels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (features.Length != (long)labels.Length * dimension)
        {
            throw new ArgumentException($"features has {features.Length} values but labels.Length × dimension = {labels.Length} × {dimension} = {(long)labels.Length * dimension}; pass one row of {dimension} values per label.", nameof(features));
        }

        // A NaN or infinity in one row would spread through the weights and spoil every embedding.
        for (int i = 0; i < features.Length; i++)
        {
            if (!float.IsFinite(features[i]))
            {
                throw new ArgumentException($"Feature {i % dimension} of row {i / dimension} is {features[i]}; every feature must be finite.", nameof(features));
            }
        }
    }

    /// <summary>Maps the labels to 0..C−1 in ascending label order.</summary>
    private static int[] MapLabels(ReadOnlySpan<int> labels, out int classCount)
    {
        int[] distinct = labels.ToArray().Distinct().Order().ToArray();
        if (distinct.Length < 2)
        {
            throw new ArgumentException($"Metric learning needs at least 2 classes, got {distinct.Length} among {labels.Length} labels.", nameof(labels));
        }

        var index = new Dictionary<int, int>(distinct.Length);
        for (int c = 0; c < distinct.Length; c++)
        {
            index[distinct[c]] = c;
        }

        var mapped = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            mapped[i] = index[labels[i]];
        }

        classCount = distinct.Length;
        return mapped;
    }

    private static BatchSampler CreateSampler(MetricLoss loss, MetricTrainerOptions options, int[] trainClasses, int classCount, Random random)
    {
        if (!loss.PrefersClassBalancedBatches)
        {
            return new ShuffledBatchSampler(trainClasses.Length, Math.Min(options.BatchSize, trainClasses.Length), random);
        }

        return new ClassBalancedBatchSampler(trainClasses, classCount, ClassesPerBatch(options), options.SamplesPerClass, random);
    }

    /// <summary>Returns P of P × K batches: BatchSize / K, at least 2 so that every batch has negatives.</summary>
    private static int ClassesPerBatch(MetricTrainerOptions options) => Math.Max(2, options.BatchSize / options.SamplesPerClass);

    private static float[] Gather(ReadOnlySpan<float> features, int dimension, ReadOnlySpan<int> rows)
    {
        var gathered = new float[checked(rows.Length * dimension)];
        for (int i = 0; i < rows.Length; i++)
        {
            features.Slice(rows[i] * dimension, dimension).CopyTo(gathered.AsSpan(i * dimension, dimension));
        }

        return gathered;
    }
}
