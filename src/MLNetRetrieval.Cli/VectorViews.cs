using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.IO;

namespace MLNetRetrieval.Cli;

/// <summary>
/// Turns a <see cref="VectorSet"/> into the IDataView that the CLI indexes and scores: Features
/// (known-size vector of Single), Id (Int64) and, when the set has labels, Label (Text).
/// </summary>
internal static class VectorViews
{
    public const string FeatureColumn = "Features";
    public const string IdColumn = "Id";
    public const string LabelColumn = "Label";

    /// <summary>Returns the set's ids, or the row numbers 0 to Count − 1 when it has none.</summary>
    public static long[] IdsOf(VectorSet vectors)
    {
        if (vectors.Ids is { } ids)
            return ids;
        var rows = new long[vectors.Count];
        for (int i = 0; i < rows.Length; i++)
            rows[i] = i;
        return rows;
    }

    /// <summary>
    /// Creates a lazy view over <paramref name="vectors"/>; each cursor copies one row at a time, so
    /// the view adds no second copy of the whole set.
    /// </summary>
    public static IDataView Create(MLContext context, VectorSet vectors)
    {
        long[] ids = IdsOf(vectors);
        SchemaDefinition definition = SchemaDefinition.Create(typeof(VectorRow));
        definition[nameof(VectorRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, vectors.Dimension);
        if (vectors.Labels is null)
            definition.Remove(definition[nameof(VectorRow.Label)]);
        return context.Data.LoadFromEnumerable(EnumerateRows(vectors, ids), definition);
    }

    private static IEnumerable<VectorRow> EnumerateRows(VectorSet vectors, long[] ids)
    {
        for (int i = 0; i < vectors.Count; i++)
        {
            yield return new VectorRow
            {
                Features = vectors.GetVector(i).ToArray(),
                Id = ids[i],
                Label = vectors.Labels?[i] ?? string.Empty,
            };
        }
    }

    /// <summary>One row of the view; public fields because ML.NET binds columns to them by reflection.</summary>
    private sealed class VectorRow
    {
        public float[] Features = [];

        public long Id;

        public string Label = string.Empty;
    }
}
