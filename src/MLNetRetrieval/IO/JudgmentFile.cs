using System.Globalization;

namespace MLNetRetrieval.IO;

/// <summary>
/// One relevance judgment: the grade an assessor gave to an item for a query.
/// </summary>
/// <param name="QueryId">Query id, non-negative.</param>
/// <param name="ItemId">Item id, non-negative.</param>
/// <param name="Grade">
/// Normalized grade: one of the lowercase words in <see cref="JudgmentFile.GradeNames"/>, or an integer in
/// invariant-culture form without sign or leading zeros for non-negative values (for example "2" or "-1").
/// </param>
public readonly record struct JudgmentRow(long QueryId, long ItemId, string Grade)
{
    /// <summary>The grade as an integer, or <see langword="null"/> when it is a word such as "positive".</summary>
    public int? NumericGrade => int.TryParse(Grade, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) ? value : null;
}

/// <summary>
/// Reads relevance judgments from CSV with the columns <c>query_id</c>, <c>item_id</c> and <c>grade</c>.
/// </summary>
/// <remarks>
/// A header row is optional. With a header, the three columns are found by name (case-insensitive) in any order
/// and other columns are ignored. Without one, the first three columns are used in that order.
/// Grades are the words positive, easy, hard, junk and negative (case-insensitive) or 32-bit integers. The reader
/// only normalizes them, and mapping words to relevance is left to the evaluation code.
/// </remarks>
public static class JudgmentFile
{
    /// <summary>Accepted grade words, lowercase. "easy", "hard" and "junk" follow the Oxford and Paris buildings benchmarks.</summary>
    public static IReadOnlyList<string> GradeNames { get; } = ["positive", "easy", "hard", "junk", "negative"];

    /// <summary>
    /// Reads all judgments in file order.
    /// </summary>
    /// <param name="path">CSV file, optionally gzip-compressed.</param>
    /// <param name="delimiter">Field delimiter.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is empty, a row has fewer columns than needed, an id is not a non-negative integer, a grade is not
    /// in the vocabulary, or a (query, item) pair appears twice.
    /// </exception>
    public static IReadOnlyList<JudgmentRow> Read(string path, char delimiter = ',')
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileErrors.ThrowIfMissing(path, "Judgments file");
        return TextFiles.WithGzipErrors(path, () => ReadCore(path, delimiter));
    }

    private static List<JudgmentRow> ReadCore(string path, char delimiter)
    {
        using var csv = new CsvRecordReader(TextFiles.Open(path), path, delimiter);
        if (!csv.ReadRecord())
        {
            throw FileErrors.Invalid(path, "file is empty. Expected rows of query_id, item_id, grade.");
        }

        int queryColumn = 0, itemColumn = 1, gradeColumn = 2;
        bool hasHeader = !long.TryParse(csv[0].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
        if (hasHeader)
        {
            var names = new string[csv.FieldCount];
            for (int i = 0; i < names.Length; i++)
            {
                names[i] = csv.GetString(i).Trim();
            }

            queryColumn = FindColumn(names, "query_id", path);
            itemColumn = FindColumn(names, "item_id", path);
            gradeColumn = FindColumn(names, "grade", path);
            if (!csv.ReadRecord())
            {
                throw FileErrors.Invalid(path, "file has a header row but no judgments. Add rows of query_id, item_id, grade.");
            }
        }

        int needed = Math.Max(queryColumn, Math.Max(itemColumn, gradeColumn)) + 1;
        var rows = new List<JudgmentRow>();
        var seen = new Dictionary<(long, long), int>();
        do
        {
            if (csv.FieldCount < needed)
            {
                throw FileErrors.Invalid(path, $"line {csv.RecordLine} has {csv.FieldCount} columns, but {needed} are needed for query_id, item_id and grade.");
            }

            long query = ParseId(csv, queryColumn, "query_id", path);
            long item = ParseId(csv, itemColumn, "item_id", path);
            string grade = NormalizeGrade(csv[gradeColumn].Trim(), csv.RecordLine, path);
            if (!seen.TryAdd((query, item), csv.RecordLine))
            {
                throw FileErrors.Invalid(path, $"line {csv.RecordLine}: query {query} and item {item} are already judged on line {seen[(query, item)]}. Keep one judgment per pair.");
            }

            rows.Add(new JudgmentRow(query, item, grade));
        }
        while (csv.ReadRecord());

        return rows;
    }

    private static int FindColumn(string[] names, string name, string path)
    {
        int index = Array.FindIndex(names, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
        {
            throw FileErrors.Invalid(path, $"header has no '{name}' column. The header columns are: {string.Join(", ", names)}. Name the columns query_id, item_id and grade.");
        }

        return index;
    }

    private static long ParseId(CsvRecordReader csv, int column, string name, string path)
    {
        ReadOnlySpan<char> cell = csv[column].Trim();
        if (!long.TryParse(cell, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long id) || id < 0)
        {
            throw FileErrors.Invalid(path, $"line {csv.RecordLine}, {name}: value {FileErrors.Excerpt(cell)} is not a non-negative 64-bit integer. Use the integer ids of the vector files.");
        }

        return id;
    }

    private static string NormalizeGrade(ReadOnlySpan<char> cell, int line, string path)
    {
        foreach (string name in GradeNames)
        {
            if (cell.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return name;
            }
        }

        if (int.TryParse(cell, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
        {
            return value.ToString(CultureInfo.InvariantCulture);
        }

        throw FileErrors.Invalid(path, $"line {line}, grade: value {FileErrors.Excerpt(cell)} is not a grade. Use positive, easy, hard, junk, negative or an integer.");
    }
}
