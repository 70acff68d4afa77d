namespace MLNetRetrieval.Images.Decoding;

/// <summary>Why an image could not be turned into pixels.</summary>
public enum ImageFailureKind
{
    /// <summary>The file does not exist.</summary>
    NotFound,

    /// <summary>The file exists but could not be read (permissions, I/O error).</summary>
    Unreadable,

    /// <summary>The file is empty.</summary>
    Empty,

    /// <summary>The bytes are not in an image format that the decoder supports.</summary>
    UnsupportedFormat,

    /// <summary>The header or the pixel data is invalid.</summary>
    Corrupt,

    /// <summary>The pixel data ends early; no partial image is returned.</summary>
    Truncated,

    /// <summary>The declared width, height or pixel count is over the configured limit; nothing was allocated.</summary>
    TooLarge,
}

/// <summary>One image that could not be used, with a reason a person can act on.</summary>
/// <param name="Source">The file path, or the name given for an in-memory image.</param>
/// <param name="Kind">The kind of failure.</param>
/// <param name="Reason">One sentence naming the problem and the value that caused it.</param>
public sealed record ImageFailure(string Source, ImageFailureKind Kind, string Reason);
