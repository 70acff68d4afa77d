namespace MLNetRetrieval.Images.Decoding;

/// <summary>Limits that protect the decoder from absurd or hostile files.</summary>
public sealed class ImageDecoderOptions
{
    /// <summary>Largest accepted width or height, checked from the header before any pixel is allocated.</summary>
    public int MaxSide { get; set; } = 32768;

    /// <summary>Largest accepted width * height, checked from the header before any pixel is allocated.</summary>
    public long MaxPixelCount { get; set; } = 100_000_000;

    /// <summary>Largest accepted file size in bytes.</summary>
    public long MaxFileBytes { get; set; } = 512L * 1024 * 1024;
}
