namespace MLNetRetrieval.MetricLearning;

/// <summary>Progress after one epoch.</summary>
/// <param name="Epoch">Epochs done, from 1.</param>
/// <param name="TrainingLoss">Mean loss over the epoch's batches.</param>
/// <param name="ValidationMapAtR">MAP@R on the validation rows, or NaN when there are none.</param>
/// <param name="LearningRate">Learning rate at the end of the epoch.</param>
/// <param name="Elapsed">Wall time of the epoch.</param>
public readonly record struct MetricEpochProgress(int Epoch, double TrainingLoss, double ValidationMapAtR, double LearningRate, TimeSpan Elapsed);

/// <summary>Trains an <see cref="EmbeddingHead"/> with a <see cref="MetricLoss"/>.</summary>
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
    public static EmbeddingHead Train(ReadOnlySpan<float> features, int dimension, ReadOnlySpan<int> labels, MetricLoss loss, MetricTrainerOptions options,
        IProgress<MetricEpochProgress>? progress = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}

/// <summary>Settings of <see cref="MetricTrainer"/>; the helper building the trainer fills this in.</summary>
public sealed class MetricTrainerOptions
{
    /// <summary>Hidden layer sizes of the MLP; empty for a single linear layer.</summary>
    public IReadOnlyList<int> HiddenLayers { get; set; } = [512];

    /// <summary>Output embedding dimension.</summary>
    public int EmbeddingDimension { get; set; } = 128;

    /// <summary>Number of passes over the training rows.</summary>
    public int Epochs { get; set; } = 20;

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>Seed of every random choice; the same seed and thread count give the same head.</summary>
    public int Seed { get; set; } = 1;
}
