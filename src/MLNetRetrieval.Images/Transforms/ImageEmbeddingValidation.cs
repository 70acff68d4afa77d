namespace MLNetRetrieval.Images.Transforms;

/// <summary>
/// Checks the settings that the embedding transform persists, when the estimator is created, so a bad
/// value fails before any model is loaded and never reaches a saved zip.
/// </summary>
internal static class ImageEmbeddingValidation
{
    /// <summary>Largest BatchSize that <see cref="ImageEmbedder"/> accepts.</summary>
    private const int MaxBatchSize = 4096;

    public static void Check(ImageEmbedderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ModelPath is not null && string.IsNullOrWhiteSpace(options.ModelPath))
            throw new ArgumentException($"ModelPath must name an ONNX file or be null for ResNet18; got '{options.ModelPath}'.", nameof(options));
        if (options.BatchSize < 1 || options.BatchSize > MaxBatchSize)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, $"BatchSize must be in [1, {MaxBatchSize}] images per inference call.");
        if (options.Threads < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.Threads, "Threads must be 0 (the processor count) or positive.");
        if (options.DecodeThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.DecodeThreads, "DecodeThreads must be 0 (automatic) or positive.");
        if (options.Decoder is null)
            throw new ArgumentNullException(nameof(options), "Decoder must be set; use new ImageDecoderOptions() for the default limits.");
        if (options.Decoder.MaxSide < 1 || options.Decoder.MaxPixelCount < 1 || options.Decoder.MaxFileBytes < 1)
            throw new ArgumentOutOfRangeException(nameof(options),
                $"The decoder limits must be positive; got MaxSide {options.Decoder.MaxSide}, MaxPixelCount {options.Decoder.MaxPixelCount}, MaxFileBytes {options.Decoder.MaxFileBytes}.");
        options.Preprocessing?.Validate();
    }
}
