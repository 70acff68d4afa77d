using System.Globalization;
using System.Text;

namespace MLNetRetrieval.Cli;

/// <summary>Helpers for the CSV files the CLI writes: invariant culture, "\n" line ends, RFC 4180 quoting.</summary>
internal static class CsvText
{
    public static StreamWriter CreateWriter(string path)
    {
        var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16);
        writer.NewLine = "\n";
        return writer;
    }

    /// <summary>Returns <paramref name="field"/>, quoted when it contains a comma, a quote, a line break or edge spaces.</summary>
    public static string Quote(string field)
    {
        bool needsQuotes = field.AsSpan().IndexOfAny([',', '"', '\r', '\n']) >= 0
            || (field.Length > 0 && (char.IsWhiteSpace(field[0]) || char.IsWhiteSpace(field[^1])));
        return needsQuotes ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }

    /// <summary>Formats a float in the shortest form that parses back to the same bits.</summary>
    public static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Format(double? value) => value is double number ? number.ToString("R", CultureInfo.InvariantCulture) : "";

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Writes a file through a temporary sibling and renames it at the end, so a failed or cancelled run
/// leaves no half-written output under the requested name.
/// </summary>
internal sealed class AtomicFile : IDisposable
{
    private bool _committed;

    public AtomicFile(string path)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        string? folder = System.IO.Path.GetDirectoryName(fullPath);
        if (folder is not null && !Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Output folder not found: {folder}. Create it first or choose another --output path.");
        Path = fullPath;
        TemporaryPath = fullPath + ".partial";
    }

    public string Path { get; }

    /// <summary>Where to write; moved to <see cref="Path"/> by <see cref="Commit"/>.</summary>
    public string TemporaryPath { get; }

    public void Commit()
    {
        File.Move(TemporaryPath, Path, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed && File.Exists(TemporaryPath))
            File.Delete(TemporaryPath);
    }
}
