using System.Globalization;

namespace MLNetRetrieval.IO;

/// <summary>
/// Reads companion files with one label or id per vector: 1-D NumPy arrays, 1-D IDX arrays (plain or gzip), or
/// text with one value per line.
/// </summary>
internal static class ColumnFileReader
{
    public static string[] ReadLabels(string path)
    {
        FileErrors.ThrowIfMissing(path, "Labels file");
        var (integers, floats, lines) = ReadValues(path, integersOnly: false);
        if (integers is not null)
        {
            return Array.ConvertAll(integers, v => v.ToString(CultureInfo.InvariantCulture));
        }

        if (floats is not null)
        {
            return Array.ConvertAll(floats, v => v.ToString("R", CultureInfo.InvariantCulture));
        }

        return lines!.ToArray();
    }

    public static long[] ReadIds(string path)
    {
        FileErrors.ThrowIfMissing(path, "Ids file");
        var (integers, _, lines) = ReadValues(path, integersOnly: true);
        long[] ids;
        if (integers is not null)
        {
            ids = integers;
        }
        else
        {
            ids = new long[lines!.Count];
            for (int i = 0; i < ids.Length; i++)
            {
                if (!long.TryParse(lines[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out ids[i]))
                {
                    throw FileErrors.Invalid(path, $"line {i + 1}: id {FileErrors.Excerpt(lines[i])} is not an integer. Write one non-negative 64-bit integer per line.");
                }
            }
        }

        CheckIds(ids, path, integers is null ? "line" : "element", integers is null ? 1 : 0);
        return ids;
    }

    /// <summary>
    /// Throws unless every id is non-negative and unique. <paramref name="firstPosition"/> is the number given to
    /// <c>ids[0]</c> in messages (1 for text lines, 0 for array elements).
    /// </summary>
    public static void CheckIds(long[] ids, string path, string positionName, int firstPosition)
    {
        var seen = new Dictionary<long, int>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            long id = ids[i];
            if (id < 0)
            {
                throw FileErrors.Invalid(path, $"{positionName} {i + firstPosition}: id {id} is negative. Ids must be non-negative 64-bit integers.");
            }

            if (!seen.TryAdd(id, i))
            {
                throw FileErrors.Invalid(path, $"{positionName} {i + firstPosition}: id {id} already appears at {positionName} {seen[id] + firstPosition}. Ids must be unique.");
            }
        }
    }

    private static (long[]? Integers, double[]? Floats, List<string>? Lines) ReadValues(string path, bool integersOnly)
    {
        Span<byte> start = stackalloc byte[8];
        int got;
        using (var probe = File.OpenRead(path))
        {
            got = probe.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        }

        if (got == 0)
        {
            throw FileErrors.Invalid(path, "file is empty. Expected one value per vector.");
        }

        if (NpyFormat.HasMagic(start[..got]))
        {
            var (integers, floats) = NpyFormat.ReadColumn(path, integersOnly);
            return (integers, floats, null);
        }

        if (IdxFormat.HasMagic(start[..got]) || (IdxFormat.IsGzip(start[..got]) && GzipHoldsIdx(path)))
        {
            var (integers, floats) = IdxFormat.ReadColumn(path, integersOnly);
            return (integers, floats, null);
        }

        return (null, null, TextFiles.WithGzipErrors(path, () => ReadLines(path)));
    }

    private static bool GzipHoldsIdx(string path) => TextFiles.WithGzipErrors(path, () =>
    {
        using var file = File.OpenRead(path);
        using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress);
        Span<byte> start = stackalloc byte[4];
        int got = gzip.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        return IdxFormat.HasMagic(start[..got]);
    });

    private static List<string> ReadLines(string path)
    {
        var lines = new List<string>();
        using var reader = TextFiles.Open(path);
        int lineNumber = 0;
        int firstBlank = 0;
        while (reader.ReadLine() is string line)
        {
            lineNumber++;
            string value = line.Trim();
            if (value.Length == 0)
            {
                firstBlank = firstBlank == 0 ? lineNumber : firstBlank;
                continue;
            }

            if (firstBlank != 0)
            {
                throw FileErrors.Invalid(path, $"line {firstBlank} is empty, but values follow it on line {lineNumber}. Write one value per line without blank lines.");
            }

            lines.Add(value);
        }

        if (lines.Count == 0)
        {
            throw FileErrors.Invalid(path, "file contains only blank lines. Expected one value per vector.");
        }

        return lines;
    }
}
