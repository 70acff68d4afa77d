using System.IO.Compression;
using System.Text;

namespace MLNetRetrieval.IO;

/// <summary>
/// Opens text files (CSV, one value per line) as UTF-8, decompressing them when they start with the gzip magic bytes.
/// </summary>
internal static class TextFiles
{
    /// <remarks>
    /// NOTE: unlike the IDX reader, text readers do not compare the gzip ISIZE trailer, so a compressed CSV cut
    /// inside its trailer reads without an error.
    /// </remarks>
    public static TextReader Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            Span<byte> start = stackalloc byte[2];
            int got = file.Read(start);
            file.Position = 0;
            Stream stream = IdxFormat.IsGzip(start[..got]) ? new GZipStream(file, CompressionMode.Decompress) : file;
            return new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="read"/> and adds the path to errors raised by <see cref="GZipStream"/>, which do not name the file.
    /// </summary>
    public static T WithGzipErrors<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith(path + ": ", StringComparison.Ordinal))
        {
            throw FileErrors.Invalid(path, $"gzip data is corrupt ({ex.Message}). Copy or download the file again.");
        }
    }
}
