using System.Diagnostics.CodeAnalysis;

namespace MLNetRetrieval.Images.Decoding;

/// <summary>
/// Decodes image files (PNG, JPEG, GIF, BMP, WebP, ICO, WBMP) into <see cref="DecodedImage"/>. Never throws for
/// bad input: every problem becomes an <see cref="ImageFailure"/>. Safe to call from many threads.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Decodes a file.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="options">Limits; null for the defaults.</param>
    /// <param name="image">The image when decoding succeeded.</param>
    /// <param name="failure">The reason when it did not.</param>
    /// <returns>True when <paramref name="image"/> holds the whole image.</returns>
    public static bool TryDecode(string path, ImageDecoderOptions? options, [NotNullWhen(true)] out DecodedImage? image, [NotNullWhen(false)] out ImageFailure? failure) =>
        throw new NotImplementedException();

    /// <summary>Decodes encoded bytes already in memory.</summary>
    /// <param name="encoded">The file's bytes.</param>
    /// <param name="sourceName">Name used in failure reasons.</param>
    /// <param name="options">Limits; null for the defaults.</param>
    /// <param name="image">The image when decoding succeeded.</param>
    /// <param name="failure">The reason when it did not.</param>
    /// <returns>True when <paramref name="image"/> holds the whole image.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, string sourceName, ImageDecoderOptions? options, [NotNullWhen(true)] out DecodedImage? image, [NotNullWhen(false)] out ImageFailure? failure) =>
        throw new NotImplementedException();
}
