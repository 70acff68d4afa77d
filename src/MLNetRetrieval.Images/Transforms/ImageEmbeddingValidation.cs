using MLNetRetrieval.Images.Preprocessing;

namespace MLNetRetrieval.Images.Transforms;

/// <summary>
/// Checks the settings that the embedding transform persists, when the estimator is created, so a bad
/// value fails before any model is loaded and never reaches a saved zip.
/// </summary>
internal static class ImageEmbeddingValidation
{
    public static void Check(ImageEmbedderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ModelPath is not null && string.IsNullOrWhiteSpace(options.ModelPath))
            throw new ArgumentException($"ModelPath must name an ONNX file or be null for ResNet18; got '{options.ModelPath}'.", nameof(options));
        if (options.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be 1 or more images per inference call.");
        if (options.Threads < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.Threads, "Threads must be 0 (the processor count) or positive.");
        if (options.Decoder is null)
            throw new ArgumentNullException(nameof(options), "Decoder must be set; use new ImageDecoderOptions() for the default limits.");
        if (options.Decoder.MaxSide < 1 || options.Decoder.MaxPixelCount < 1 || options.Decoder.MaxFileBytes < 1)
            throw new ArgumentOutOfRangeException(nameof(options),
                $"The decoder limits must be positive; got MaxSide {options.Decoder.MaxSide}, MaxPixelCount {options.Decoder.MaxPixelCount}, MaxFileBytes {options.Decoder.MaxFileBytes}.");
        if (options.Preprocessing is { } preprocessing)
            Check(preprocessing);
    }

    private static void Check(ImagePreprocessing preprocessing)
    {
        if (preprocessing.Width < 1 || preprocessing.Height < 1)
            throw new ArgumentOutOfRangeException(nameof(preprocessing), $"The tensor size is {preprocessing.Width}x{preprocessing.Height}; Width and Height must be 1 or more pixels.");
        if (!Enum.IsDefined(preprocessing.ResizeMode))
            throw new ArgumentOutOfRangeException(nameof(preprocessing), preprocessing.ResizeMode, $"Unknown resize mode. Use one of: {string.Join(", ", Enum.GetNames<ImageResizeMode>())}.");
        if (!Enum.IsDefined(preprocessing.ChannelOrder))
            throw new ArgumentOutOfRangeException(nameof(preprocessing), preprocessing.ChannelOrder, $"Unknown channel order. Use one of: {string.Join(", ", Enum.GetNames<ChannelOrder>())}.");
        if (!Enum.IsDefined(preprocessing.Layout))
            throw new ArgumentOutOfRangeException(nameof(preprocessing), preprocessing.Layout, $"Unknown tensor layout. Use one of: {string.Join(", ", Enum.GetNames<TensorLayout>())}.");
        if (!float.IsFinite(preprocessing.Scale))
            throw new ArgumentOutOfRangeException(nameof(preprocessing), preprocessing.Scale, "Scale must be a finite number.");
        if (preprocessing.Mean is null || preprocessing.Mean.Count != 3)
            throw new ArgumentException($"Mean must have 3 values, one per channel; got {preprocessing.Mean?.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}.", nameof(preprocessing));
        if (preprocessing.Std is null || preprocessing.Std.Count != 3)
            throw new ArgumentException($"Std must have 3 values, one per channel; got {preprocessing.Std?.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}.", nameof(preprocessing));
        for (int c = 0; c < 3; c++)
        {
            if (!float.IsFinite(preprocessing.Mean[c]))
                throw new ArgumentOutOfRangeException(nameof(preprocessing), preprocessing.Mean[c], $"Mean[{c}] must be a finite number.");
            if (!float.IsFinite(preprocessing.Std[c]) || preprocessing.Std[c] == 0)
                throw new ArgumentOutOfRangeException(nameof(preprocessing), preprocessing.Std[c], $"Std[{c}] must be a finite, non-zero divisor.");
        }
    }
}
