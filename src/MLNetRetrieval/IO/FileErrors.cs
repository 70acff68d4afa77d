namespace MLNetRetrieval.IO;

/// <summary>
/// Builders for the exceptions that the readers throw, so every message starts with the file path.
/// </summary>
internal static class FileErrors
{
    /// <summary>Array.MaxLength: the largest element count a single .NET array can have.</summary>
    public static long MaxArrayLength => Array.MaxLength;

    public static InvalidDataException Invalid(string path, string detail) => new($"{path}: {detail}");

    public static InvalidDataException Truncated(string path, long offset, string region, long missingBytes) =>
        Invalid(path, $"file ends at byte offset {offset} inside {region} ({missingBytes} more bytes expected). The file is truncated, so copy or download it again.");

    public static FileNotFoundException NotFound(string path, string role) =>
        new($"{role} not found: {path}. Check the path and the working directory ({Environment.CurrentDirectory}).", path);

    public static void ThrowIfMissing(string path, string role)
    {
        if (!File.Exists(path))
        {
            throw NotFound(path, role);
        }
    }

    /// <summary>
    /// Reads exactly <paramref name="buffer"/>.Length bytes or throws <see cref="InvalidDataException"/> naming the offset.
    /// </summary>
    public static void ReadExactly(Stream stream, Span<byte> buffer, string path, long offset, string region)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer[total..]);
            if (read == 0)
            {
                throw Truncated(path, offset + total, region, buffer.Length - total);
            }

            total += read;
        }
    }

    /// <summary>
    /// Throws when <c>values</c> contains NaN or an infinity, naming the row (numbered from <c>firstRow</c>,
    /// the row of <c>values[0]</c>) and the component.
    /// </summary>
    public static void ThrowIfNonFinite(ReadOnlySpan<float> values, int dimension, long firstRow, string path, string rowName = "vector")
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                long row = firstRow + (i / dimension);
                int component = i % dimension;
                throw Invalid(
                    path,
                    $"{rowName} {row} component {component} is {FormatFloat(values[i])}. Remove or repair that vector, or set VectorReadOptions.RejectNonFinite = false to accept it.");
            }
        }
    }

    /// <summary>
    /// Throws unless <paramref name="count"/> vectors of <paramref name="dimension"/> components fit in one float array.
    /// </summary>
    public static void ThrowIfTooLarge(string path, long count, long dimension, string where)
    {
        if (count > int.MaxValue || dimension > int.MaxValue || (dimension > 0 && count > MaxArrayLength / dimension))
        {
            throw Invalid(
                path,
                $"{where} declares {count} vectors of dimension {dimension}, more than one array can hold ({MaxArrayLength} floats). Split the file into smaller parts.");
        }
    }

    public static string FormatFloat(float value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Returns at most 40 characters of <paramref name="text"/>, so one bad cell cannot flood a message.</summary>
    public static string Excerpt(ReadOnlySpan<char> text)
    {
        const int MaxLength = 40;
        return text.Length <= MaxLength ? $"\"{text}\"" : $"\"{text[..MaxLength]}...\" ({text.Length} characters)";
    }
}
