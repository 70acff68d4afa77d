namespace MLNetRetrieval.IO;

/// <summary>
/// Settings for <see cref="VectorFile.Read(string, VectorReadOptions?)"/>.
/// </summary>
public sealed class VectorReadOptions
{
    /// <summary>File format, or <see langword="null"/> to detect it from magic bytes and the extension.</summary>
    public VectorFileFormat? Format { get; set; }

    /// <summary>
    /// CSV field delimiter, or <see langword="null"/> for a tab in <c>.tsv</c> files and a comma otherwise.
    /// </summary>
    public char? Delimiter { get; set; }

    /// <summary>Whether the first CSV row is a header. The default is <see cref="CsvHeaderMode.Auto"/>.</summary>
    public CsvHeaderMode Header { get; set; } = CsvHeaderMode.Auto;

    /// <summary>Header name of the CSV column that contains vector ids (non-negative integers).</summary>
    /// <remarks>Set at most one of <see cref="IdColumn"/> and <see cref="IdColumnIndex"/>.</remarks>
    public string? IdColumn { get; set; }

    /// <summary>Zero-based index of the CSV column that contains vector ids (non-negative integers).</summary>
    public int? IdColumnIndex { get; set; }

    /// <summary>Header name of the CSV column that contains labels.</summary>
    /// <remarks>Set at most one of <see cref="LabelColumn"/> and <see cref="LabelColumnIndex"/>.</remarks>
    public string? LabelColumn { get; set; }

    /// <summary>Zero-based index of the CSV column that contains labels.</summary>
    public int? LabelColumnIndex { get; set; }

    /// <summary>
    /// Companion file with one label per vector: a 1-D IDX file (optionally gzip-compressed), a 1-D <c>.npy</c>
    /// array, or a text file with one label per line.
    /// </summary>
    public string? LabelsPath { get; set; }

    /// <summary>
    /// Companion file with one id per vector: a 1-D integer <c>.npy</c> or IDX array, or a text file with one
    /// integer per line. Ids must be non-negative and unique.
    /// </summary>
    public string? IdsPath { get; set; }

    /// <summary>
    /// Whether to reject NaN and infinite components with <see cref="InvalidDataException"/>. The default is
    /// <see langword="true"/>, because one NaN makes every distance to that vector NaN and silently breaks ranking.
    /// </summary>
    public bool RejectNonFinite { get; set; } = true;
}
