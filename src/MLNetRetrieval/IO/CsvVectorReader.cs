using System.Globalization;

namespace MLNetRetrieval.IO;

/// <summary>
/// Reads vectors from delimited text: one vector per row, every column other than the id and label columns is a
/// component. Numbers use the invariant culture.
/// </summary>
internal static class CsvVectorReader
{
    public static VectorSet Read(string path, VectorReadOptions options) => TextFiles.WithGzipErrors(path, () => ReadCore(path, options));

    private static VectorSet ReadCore(string path, VectorReadOptions options)
    {
        char delimiter = options.Delimiter ?? (path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',');
        using var csv = new CsvRecordReader(TextFiles.Open(path), path, delimiter);
        if (!csv.ReadRecord())
        {
            throw FileErrors.Invalid(path, "file is empty. Expected one vector per row, with components separated by the delimiter.");
        }

        int columnCount = csv.FieldCount;
        bool hasHeader = HasHeader(csv, options);
        string[]? names = null;
        if (hasHeader)
        {
            names = new string[columnCount];
            for (int i = 0; i < columnCount; i++)
            {
                names[i] = csv.GetString(i).Trim();
            }
        }

        int idIndex = ResolveColumn(path, "id", options.IdColumn, options.IdColumnIndex, names, columnCount);
        int labelIndex = ResolveColumn(path, "label", options.LabelColumn, options.LabelColumnIndex, names, columnCount);
        if (idIndex >= 0 && idIndex == labelIndex)
        {
            throw new ArgumentException($"The id column and the label column are both column {idIndex}. Choose different columns.", nameof(options));
        }

        int dimension = columnCount - (idIndex >= 0 ? 1 : 0) - (labelIndex >= 0 ? 1 : 0);
        if (dimension < 1)
        {
            throw FileErrors.Invalid(path, $"line {csv.RecordLine} has {columnCount} columns and none is left for vector components after the id and label columns. Add component columns.");
        }

        if (hasHeader && !csv.ReadRecord())
        {
            throw FileErrors.Invalid(path, "file has a header row but no data rows. Add at least one vector.");
        }

        var values = new float[Math.Max(dimension, 1024)];
        var ids = idIndex >= 0 ? new List<long>() : null;
        var idLines = idIndex >= 0 ? new Dictionary<long, int>() : null;
        var labels = labelIndex >= 0 ? new List<string>() : null;
        int count = 0;
        do
        {
            if (csv.FieldCount != columnCount)
            {
                throw FileErrors.Invalid(
                    path,
                    $"line {csv.RecordLine} has {csv.FieldCount} columns, but the first row has {columnCount}. Every row must have the same number of columns.");
            }

            long needed = (long)(count + 1) * dimension;
            if (needed > Array.MaxLength)
            {
                FileErrors.ThrowIfTooLarge(path, count + 1L, dimension, $"line {csv.RecordLine}");
            }

            if (needed > values.Length)
            {
                Array.Resize(ref values, (int)Math.Min(Math.Max(needed, 2L * values.Length), Array.MaxLength));
            }

            int component = 0;
            for (int column = 0; column < columnCount; column++)
            {
                if (column == idIndex)
                {
                    long id = ParseId(csv, column, path, names);
                    if (!idLines!.TryAdd(id, csv.RecordLine))
                    {
                        throw FileErrors.Invalid(path, $"line {csv.RecordLine}: id {id} already appears on line {idLines[id]}. Ids must be unique.");
                    }

                    ids!.Add(id);
                }
                else if (column == labelIndex)
                {
                    labels!.Add(csv.GetString(column));
                }
                else
                {
                    values[(count * dimension) + component] = ParseComponent(csv, column, path, names, options.RejectNonFinite);
                    component++;
                }
            }

            count++;
        }
        while (csv.ReadRecord());

        Array.Resize(ref values, count * dimension);
        return new VectorSet(values, count, dimension, ids?.ToArray(), labels?.ToArray(), path);
    }

    /// <summary>
    /// Decides whether the first record is a header. In auto mode it is one when a column is named, or when any cell
    /// outside the id and label columns is not a number.
    /// </summary>
    private static bool HasHeader(CsvRecordReader csv, VectorReadOptions options)
    {
        bool named = options.IdColumn is not null || options.LabelColumn is not null;
        switch (options.Header)
        {
            case CsvHeaderMode.Present:
                return true;
            case CsvHeaderMode.Absent when named:
                throw new ArgumentException(
                    "IdColumn or LabelColumn names a header column, but Header is Absent. Use IdColumnIndex or LabelColumnIndex, or set Header to Present or Auto.",
                    nameof(options));
            case CsvHeaderMode.Absent:
                return false;
        }

        if (named)
        {
            return true;
        }

        for (int i = 0; i < csv.FieldCount; i++)
        {
            if (i == options.IdColumnIndex || i == options.LabelColumnIndex)
            {
                continue;
            }

            if (!float.TryParse(csv[i], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                return true;
            }
        }

        return false;
    }

    private static int ResolveColumn(string path, string role, string? name, int? index, string[]? names, int columnCount)
    {
        if (name is not null && index is not null)
        {
            throw new ArgumentException($"Both the {role} column name '{name}' and index {index} are set. Set only one of them.", "options");
        }

        if (index is int i)
        {
            if (i < 0 || i >= columnCount)
            {
                throw FileErrors.Invalid(path, $"{role} column index {i} is outside the {columnCount} columns of the first row (valid: 0 to {columnCount - 1}). Fix the {role} column index.");
            }

            return i;
        }

        if (name is null)
        {
            return -1;
        }

        int found = Array.FindIndex(names!, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        if (found < 0)
        {
            throw FileErrors.Invalid(path, $"header has no {role} column '{name}'. The header columns are: {string.Join(", ", names!)}.");
        }

        return found;
    }

    private static string ColumnName(int column, string[]? names) =>
        names is null ? $"column {column}" : $"column {column} ('{names[column]}')";

    private static float ParseComponent(CsvRecordReader csv, int column, string path, string[]? names, bool rejectNonFinite)
    {
        ReadOnlySpan<char> cell = csv[column];
        if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
        {
            string problem = cell.IsWhiteSpace() ? "is empty" : $"value {FileErrors.Excerpt(cell)} is not a number";
            throw FileErrors.Invalid(
                path,
                $"line {csv.RecordLine}, {ColumnName(column, names)}: {problem}. Write components as invariant-culture numbers such as 0.5 or -1.25e-3, or name the id and label columns.");
        }

        if (rejectNonFinite && !float.IsFinite(value))
        {
            throw FileErrors.Invalid(
                path,
                $"line {csv.RecordLine}, {ColumnName(column, names)}: value {FileErrors.Excerpt(cell)} is not finite. Remove or repair that row, or set VectorReadOptions.RejectNonFinite = false to accept it.");
        }

        return value;
    }

    private static long ParseId(CsvRecordReader csv, int column, string path, string[]? names)
    {
        ReadOnlySpan<char> cell = csv[column];
        if (!long.TryParse(cell, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long id))
        {
            throw FileErrors.Invalid(path, $"line {csv.RecordLine}, {ColumnName(column, names)}: id {FileErrors.Excerpt(cell)} is not an integer. Ids must be non-negative 64-bit integers.");
        }

        if (id < 0)
        {
            throw FileErrors.Invalid(path, $"line {csv.RecordLine}, {ColumnName(column, names)}: id {id} is negative. Ids must be non-negative 64-bit integers.");
        }

        return id;
    }
}
