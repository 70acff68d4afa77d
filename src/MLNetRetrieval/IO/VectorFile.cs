using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace MLNetRetrieval.IO;

/// <summary>
/// Reads and writes float vector sets in CSV, TEXMEX (<c>.fvecs</c>, <c>.ivecs</c>, <c>.bvecs</c>), NumPy
/// <c>.npy</c> and IDX (MNIST) files.
/// </summary>
/// <remarks>
/// Readers check every size in a header against the file length before they allocate, and report each problem as
/// one <see cref="InvalidDataException"/> line that starts with the file path and names the line, record or byte
/// offset. They stream the file, so a 60000 × 784 float set (188 MB) does not need a second copy as text.
/// </remarks>
public static class VectorFile
{
    /// <summary>
    /// Reads a vector set, with optional ids and labels from columns or companion files.
    /// </summary>
    /// <param name="path">Vector file.</param>
    /// <param name="options">Format, CSV and companion-file settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The vectors, with <see cref="VectorSet.Count"/> at least 1.</returns>
    /// <exception cref="FileNotFoundException">The vector, labels or ids file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is empty, truncated, corrupt or inconsistent, or contains NaN or an infinity while <see cref="VectorReadOptions.RejectNonFinite"/> is set.</exception>
    /// <exception cref="ArgumentException">The options contradict each other, for example both a label column and a labels file.</exception>
    public static VectorSet Read(string path, VectorReadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new VectorReadOptions();
        FileErrors.ThrowIfMissing(path, "Vector file");
        CheckOptions(options);

        VectorFileFormat format = options.Format ?? DetectFormat(path);
        bool namesColumns = options.IdColumn is not null || options.LabelColumn is not null
            || options.IdColumnIndex is not null || options.LabelColumnIndex is not null;
        if (format != VectorFileFormat.Csv && namesColumns)
        {
            throw new ArgumentException($"Id and label columns apply only to CSV files, but {path} is read as {format}. Use IdsPath or LabelsPath instead.", nameof(options));
        }

        VectorSet vectors = format switch
        {
            VectorFileFormat.Csv => CsvVectorReader.Read(path, options),
            VectorFileFormat.Npy => NpyFormat.ReadVectors(path, options.RejectNonFinite),
            VectorFileFormat.Idx => IdxFormat.ReadVectors(path, options.RejectNonFinite),
            _ => VecsFormat.ReadVectors(path, format, options.RejectNonFinite),
        };

        if (vectors.Count == 0)
        {
            throw FileErrors.Invalid(path, "file contains no vectors. Add at least one vector.");
        }

        return AttachColumnFiles(vectors, options);
    }

    /// <summary>
    /// Detects the format of a vector file from its first bytes and its extension.
    /// </summary>
    /// <remarks>
    /// Checks in this order: the NumPy magic bytes, then gzip (containing IDX data, or named <c>*.csv.gz</c>,
    /// <c>*.tsv.gz</c> or <c>*.txt.gz</c>), then the <c>.fvecs</c>, <c>.ivecs</c> and <c>.bvecs</c> extensions, then the IDX
    /// magic number (two zero bytes, a valid type code and a non-zero rank), and last the <c>.csv</c>, <c>.tsv</c> and
    /// <c>.txt</c> extensions.
    /// </remarks>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The format cannot be detected. Set <see cref="VectorReadOptions.Format"/> in that case.</exception>
    public static VectorFileFormat DetectFormat(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileErrors.ThrowIfMissing(path, "Vector file");
        Span<byte> start = stackalloc byte[8];
        int got;
        using (var file = File.OpenRead(path))
        {
            got = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        }

        start = start[..got];
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (got == 0)
        {
            throw FileErrors.Invalid(path, "file is empty. Expected vectors in CSV, .fvecs, .ivecs, .bvecs, .npy or IDX format.");
        }

        if (NpyFormat.HasMagic(start))
        {
            return VectorFileFormat.Npy;
        }

        if (IdxFormat.IsGzip(start))
        {
            return DetectCompressedFormat(path);
        }

        switch (extension)
        {
            case ".fvecs":
                return VectorFileFormat.Fvecs;
            case ".ivecs":
                return VectorFileFormat.Ivecs;
            case ".bvecs":
                return VectorFileFormat.Bvecs;
        }

        if (IdxFormat.HasMagic(start))
        {
            return VectorFileFormat.Idx;
        }

        if (extension is ".csv" or ".tsv" or ".txt")
        {
            return VectorFileFormat.Csv;
        }

        throw FileErrors.Invalid(
            path,
            $"cannot detect the format from the first bytes ({Convert.ToHexString(start)}) or the extension '{extension}'. Rename the file to .csv, .fvecs, .ivecs, .bvecs or .npy, or set VectorReadOptions.Format.");
    }

    /// <summary>
    /// Reads an <c>.ivecs</c> file as int32 vectors, for example the ground-truth neighbor ids of each query.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty, truncated or has records of different dimensions.</exception>
    public static Int32VectorSet ReadIvecs(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileErrors.ThrowIfMissing(path, "Vector file");
        return VecsFormat.ReadIvecs(path);
    }

    /// <summary>
    /// Reads one label per vector from a 1-D NumPy or IDX array (plain or gzip) or from text with one label per line.
    /// </summary>
    /// <returns>Labels as text. Numeric labels use the invariant culture, for example "9".</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty, truncated, corrupt, not 1-D, or has a blank line between labels.</exception>
    public static string[] ReadLabels(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ColumnFileReader.ReadLabels(path);
    }

    /// <summary>
    /// Reads one id per vector from a 1-D integer NumPy or IDX array or from text with one integer per line.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is corrupt, contains non-integers, or an id is negative or repeated.</exception>
    public static long[] ReadIds(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ColumnFileReader.ReadIds(path);
    }

    /// <summary>
    /// Writes vectors as <c>.fvecs</c>: per vector a little-endian int32 dimension, then the float32 components.
    /// </summary>
    /// <param name="path">Output file, replaced if it exists.</param>
    /// <param name="values">Components, row-major, with a length that is a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">Components per vector, at least 1.</param>
    public static void WriteFvecs(string path, ReadOnlySpan<float> values, int dimension)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        VecsFormat.WriteFvecs(path, values, dimension);
    }

    /// <summary>
    /// Writes int32 vectors as <c>.ivecs</c>, for example ground-truth neighbor ids.
    /// </summary>
    /// <param name="path">Output file, replaced if it exists.</param>
    /// <param name="values">Components, row-major, with a length that is a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">Components per vector, at least 1.</param>
    public static void WriteIvecs(string path, ReadOnlySpan<int> values, int dimension)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        VecsFormat.WriteIvecs(path, values, dimension);
    }

    /// <summary>
    /// Writes vectors as a little-endian float32 NumPy array of shape (count, dimension), format version 1.0.
    /// </summary>
    /// <param name="path">Output file, replaced if it exists.</param>
    /// <param name="values">Components, row-major, size <paramref name="count"/> * <paramref name="dimension"/>.</param>
    /// <param name="count">Number of vectors.</param>
    /// <param name="dimension">Components per vector, at least 1.</param>
    public static void WriteNpy(string path, ReadOnlySpan<float> values, int count, int dimension)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        NpyFormat.WriteFloat32(path, values, count, dimension);
    }

    /// <summary>
    /// Writes ids as a 1-D little-endian int64 NumPy array, readable as <see cref="VectorReadOptions.IdsPath"/>.
    /// </summary>
    /// <param name="path">Output file, replaced if it exists.</param>
    /// <param name="ids">Ids to write.</param>
    public static void WriteNpy(string path, ReadOnlySpan<long> ids)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        NpyFormat.WriteInt64(path, ids);
    }

    /// <summary>
    /// Writes vectors as UTF-8 CSV with a header row: <c>id</c> and <c>label</c> columns when the set has them,
    /// then <c>v0</c> to <c>v{dimension-1}</c>. Floats use the shortest round-trip form in the invariant culture.
    /// </summary>
    /// <remarks>Read the file back with <see cref="VectorReadOptions.IdColumn"/> = "id" and <see cref="VectorReadOptions.LabelColumn"/> = "label".</remarks>
    /// <param name="path">Output file, replaced if it exists.</param>
    /// <param name="vectors">Vectors to write.</param>
    /// <param name="delimiter">Field delimiter, which cannot be a quote or line break.</param>
    public static void WriteCsv(string path, VectorSet vectors, char delimiter = ',')
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(vectors);
        if (delimiter is '"' or '\r' or '\n')
        {
            throw new ArgumentOutOfRangeException(nameof(delimiter), delimiter, "The CSV delimiter cannot be a quote or a line break. Use a comma, semicolon or tab.");
        }

        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16);
        writer.NewLine = "\n";
        var line = new StringBuilder();
        if (vectors.Ids is not null)
        {
            line.Append("id").Append(delimiter);
        }

        if (vectors.Labels is not null)
        {
            line.Append("label").Append(delimiter);
        }

        for (int j = 0; j < vectors.Dimension; j++)
        {
            line.Append(j == 0 ? "" : delimiter).Append('v').Append(j.ToString(CultureInfo.InvariantCulture));
        }

        writer.WriteLine(line);
        for (int i = 0; i < vectors.Count; i++)
        {
            line.Clear();
            if (vectors.Ids is not null)
            {
                line.Append(vectors.Ids[i].ToString(CultureInfo.InvariantCulture)).Append(delimiter);
            }

            if (vectors.Labels is not null)
            {
                AppendQuoted(line, vectors.Labels[i], delimiter);
                line.Append(delimiter);
            }

            ReadOnlySpan<float> row = vectors.GetVector(i);
            for (int j = 0; j < row.Length; j++)
            {
                line.Append(j == 0 ? "" : delimiter).Append(row[j].ToString("R", CultureInfo.InvariantCulture));
            }

            writer.WriteLine(line);
        }
    }

    /// <summary>Appends a field, quoted per RFC 4180 when it contains the delimiter, a quote, a line break or edge spaces.</summary>
    private static void AppendQuoted(StringBuilder line, string field, char delimiter)
    {
        bool needsQuotes = field.Length == 0
            || field.AsSpan().IndexOfAny(['"', '\r', '\n', delimiter]) >= 0
            || char.IsWhiteSpace(field[0])
            || char.IsWhiteSpace(field[^1]);
        if (!needsQuotes)
        {
            line.Append(field);
            return;
        }

        line.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }

    private static void CheckOptions(VectorReadOptions options)
    {
        if (options.IdColumnIndex < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.IdColumnIndex, "IdColumnIndex must be zero or more.");
        }

        if (options.LabelColumnIndex < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LabelColumnIndex, "LabelColumnIndex must be zero or more.");
        }

        if (options.LabelsPath is not null && (options.LabelColumn is not null || options.LabelColumnIndex is not null))
        {
            throw new ArgumentException("Both a label column and LabelsPath are set. Set only one source of labels.", nameof(options));
        }

        if (options.IdsPath is not null && (options.IdColumn is not null || options.IdColumnIndex is not null))
        {
            throw new ArgumentException("Both an id column and IdsPath are set. Set only one source of ids.", nameof(options));
        }
    }

    private static VectorFileFormat DetectCompressedFormat(string path)
    {
        Span<byte> start = stackalloc byte[4];
        int got = TextFiles.WithGzipErrors(path, () =>
        {
            using var file = File.OpenRead(path);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            Span<byte> buffer = stackalloc byte[4];
            int read = gzip.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return IdxFormat.HasMagic(buffer[..read]) ? 1 : 0;
        });
        if (got == 1)
        {
            return VectorFileFormat.Idx;
        }

        string inner = Path.GetExtension(Path.GetFileNameWithoutExtension(path)).ToLowerInvariant();
        if (inner is ".csv" or ".tsv" or ".txt")
        {
            return VectorFileFormat.Csv;
        }

        throw FileErrors.Invalid(
            path,
            $"file is gzip-compressed, but contains no IDX data and its name has no .csv, .tsv or .txt before .gz (found '{inner}'). Only IDX and CSV may be compressed, so decompress other formats with gunzip.");
    }

    private static VectorSet AttachColumnFiles(VectorSet vectors, VectorReadOptions options)
    {
        string[]? labels = vectors.Labels;
        long[]? ids = vectors.Ids;
        if (options.LabelsPath is string labelsPath)
        {
            labels = ColumnFileReader.ReadLabels(labelsPath);
            if (labels.Length != vectors.Count)
            {
                throw FileErrors.Invalid(labelsPath, $"file has {labels.Length} labels, but {vectors.Source} has {vectors.Count} vectors. Use the labels file that belongs to the vector file.");
            }
        }

        if (options.IdsPath is string idsPath)
        {
            ids = ColumnFileReader.ReadIds(idsPath);
            if (ids.Length != vectors.Count)
            {
                throw FileErrors.Invalid(idsPath, $"file has {ids.Length} ids, but {vectors.Source} has {vectors.Count} vectors. Use the ids file that belongs to the vector file.");
            }
        }

        if (ReferenceEquals(labels, vectors.Labels) && ReferenceEquals(ids, vectors.Ids))
        {
            return vectors;
        }

        return new VectorSet(vectors.Values, vectors.Count, vectors.Dimension, ids, labels, vectors.Source);
    }
}
