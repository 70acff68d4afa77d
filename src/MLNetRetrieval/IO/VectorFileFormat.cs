namespace MLNetRetrieval.IO;

/// <summary>
/// File formats that <see cref="VectorFile"/> reads.
/// </summary>
public enum VectorFileFormat
{
    /// <summary>Delimited text, one vector per row, optional header, id and label columns. May be gzip-compressed.</summary>
    Csv,

    /// <summary>TEXMEX <c>.fvecs</c>: per vector a little-endian int32 dimension, then that many float32 values.</summary>
    Fvecs,

    /// <summary>TEXMEX <c>.ivecs</c>: per vector a little-endian int32 dimension, then that many int32 values.</summary>
    Ivecs,

    /// <summary>TEXMEX <c>.bvecs</c>: per vector a little-endian int32 dimension, then that many unsigned bytes.</summary>
    Bvecs,

    /// <summary>NumPy <c>.npy</c> array, format version 1.0, 2.0 or 3.0, in C order.</summary>
    Npy,

    /// <summary>IDX array as used by MNIST and Fashion-MNIST, optionally gzip-compressed.</summary>
    Idx,
}

/// <summary>
/// How the CSV reader decides whether the first row is a header.
/// </summary>
public enum CsvHeaderMode
{
    /// <summary>
    /// The first row is a header when an id or label column is named, or when any of its vector cells is not a number.
    /// </summary>
    Auto,

    /// <summary>The first row is always a header.</summary>
    Present,

    /// <summary>The file has no header, so the first row is data.</summary>
    Absent,
}
