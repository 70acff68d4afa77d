using System.Globalization;
using System.Text;

namespace MLNetRetrieval.Images.IO;

/// <summary>One row of an image manifest: which file an index id stands for.</summary>
/// <param name="Path">Path of the image file.</param>
/// <param name="Id">The id of the image in the index.</param>
/// <param name="Label">The label; null when the manifest has none for this image.</param>
public sealed record ImageManifestEntry(string Path, long Id, string? Label);

/// <summary>
/// The manifest CSV of an image index: the header <c>path,id,label</c> and one row per indexed image,
/// UTF-8 without a byte-order mark, "\n" line ends, fields quoted as RFC 4180 describes when they
/// contain a comma, a quote, a line break or edge spaces. An empty label field means no label.
/// </summary>
public static class ImageManifest
{
    /// <summary>The first line of every manifest.</summary>
    public const string Header = "path,id,label";

    /// <summary>Writes the manifest of <paramref name="files"/> to <paramref name="writer"/>.</summary>
    /// <param name="writer">Receives the CSV text.</param>
    /// <param name="files">The rows, written in the given order.</param>
    public static void Write(TextWriter writer, IEnumerable<ImageManifestEntry> files)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(files);
        writer.Write(Header);
        writer.Write('\n');
        foreach (ImageManifestEntry file in files)
        {
            writer.Write(Quote(file.Path));
            writer.Write(',');
            writer.Write(file.Id.ToString(CultureInfo.InvariantCulture));
            writer.Write(',');
            writer.Write(Quote(file.Label ?? ""));
            writer.Write('\n');
        }
    }

    /// <summary>Writes the manifest of <paramref name="files"/> to a file, replacing it.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="files">The rows, written in the given order.</param>
    public static void Write(string path, IEnumerable<ImageManifestEntry> files)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        Write(writer, files);
    }

    /// <summary>Reads a manifest file.</summary>
    /// <param name="path">The file to read.</param>
    /// <returns>The rows in file order.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The header, a row or an id is invalid, or an id repeats; the message names the line.</exception>
    public static IReadOnlyList<ImageManifestEntry> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Image manifest not found: {path}. The index command writes it next to the model zip.", path);
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, path);
    }

    /// <summary>Reads a manifest from text.</summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="sourceName">Name of the source, used in error messages.</param>
    /// <returns>The rows in file order.</returns>
    /// <exception cref="InvalidDataException">The header, a row or an id is invalid, or an id repeats; the message names the line.</exception>
    public static IReadOnlyList<ImageManifestEntry> Read(TextReader reader, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var records = new CsvRecords(reader.ReadToEnd(), sourceName);
        if (!records.TryRead(out List<string> header, out _) || string.Join(',', header) != Header)
            throw new InvalidDataException($"{sourceName}, line 1: expected the header '{Header}'. Pass a manifest written by the index command.");

        var entries = new List<ImageManifestEntry>();
        var ids = new HashSet<long>();
        while (records.TryRead(out List<string> fields, out int line))
        {
            if (fields.Count != 3)
                throw new InvalidDataException($"{sourceName}, line {line}: expected 3 fields (path,id,label) but found {fields.Count}.");
            if (fields[0].Length == 0)
                throw new InvalidDataException($"{sourceName}, line {line}: the path is empty.");
            if (!long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long id))
                throw new InvalidDataException($"{sourceName}, line {line}: the id '{fields[1]}' is not an integer of 0 or more.");
            if (!ids.Add(id))
                throw new InvalidDataException($"{sourceName}, line {line}: the id {id} appears twice; each image needs its own id.");
            entries.Add(new ImageManifestEntry(fields[0], id, fields[2].Length == 0 ? null : fields[2]));
        }

        return entries;
    }

    private static string Quote(string field)
    {
        bool needsQuotes = field.AsSpan().IndexOfAny([',', '"', '\r', '\n']) >= 0
            || (field.Length > 0 && (char.IsWhiteSpace(field[0]) || char.IsWhiteSpace(field[^1])));
        return needsQuotes ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }

    /// <summary>Splits RFC 4180 text into records; a quoted field may contain commas, doubled quotes and line breaks.</summary>
    private sealed class CsvRecords(string text, string sourceName)
    {
        private int _position;
        private int _line = 1;

        /// <summary>Reads the next non-empty record and the line it starts on.</summary>
        public bool TryRead(out List<string> fields, out int startLine)
        {
            fields = [];
            while (_position < text.Length && text[_position] is '\n' or '\r')
                SkipLineBreak();
            startLine = _line;
            if (_position >= text.Length)
                return false;

            var field = new StringBuilder();
            while (true)
            {
                if (_position < text.Length && text[_position] == '"')
                    ReadQuoted(field, startLine);
                else
                    ReadPlain(field);

                fields.Add(field.ToString());
                field.Clear();
                if (_position < text.Length && text[_position] == ',')
                {
                    _position++;
                    continue;
                }

                if (_position < text.Length)
                    SkipLineBreak();
                return true;
            }
        }

        private void ReadPlain(StringBuilder field)
        {
            while (_position < text.Length && text[_position] is not (',' or '\n' or '\r'))
            {
                if (text[_position] == '"')
                    throw new InvalidDataException($"{sourceName}, line {_line}: a quote inside an unquoted field; quote the whole field and double the inner quotes.");
                field.Append(text[_position++]);
            }
        }

        private void ReadQuoted(StringBuilder field, int startLine)
        {
            _position++;
            while (true)
            {
                if (_position >= text.Length)
                    throw new InvalidDataException($"{sourceName}, line {startLine}: a quoted field is not closed before the end of the file.");
                char c = text[_position++];
                if (c == '"')
                {
                    if (_position < text.Length && text[_position] == '"')
                    {
                        field.Append('"');
                        _position++;
                        continue;
                    }

                    if (_position < text.Length && text[_position] is not (',' or '\n' or '\r'))
                        throw new InvalidDataException($"{sourceName}, line {_line}: text follows the closing quote of a field.");
                    return;
                }

                if (c == '\n')
                    _line++;
                field.Append(c);
            }
        }

        private void SkipLineBreak()
        {
            if (text[_position] == '\r' && _position + 1 < text.Length && text[_position + 1] == '\n')
                _position++;
            _position++;
            _line++;
        }
    }
}
