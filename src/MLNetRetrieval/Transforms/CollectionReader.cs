using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRetrieval.Transforms;

/// <summary>Vectors, ids and labels read from a collection <see cref="IDataView"/>.</summary>
internal sealed record CollectionData(float[] Vectors, int Count, int Dimension, long[]? Ids, string[]? Labels);

/// <summary>Reads a collection into arrays and checks column types, with errors that name the column and row.</summary>
internal static class CollectionReader
{
    public static CollectionData Read(IDataView data, NeighborSearchOptions options)
    {
        DataViewSchema schema = data.Schema;
        DataViewSchema.Column feature = SchemaChecks.CheckFeatureColumn(schema, options.FeatureColumnName, "collection");
        DataViewSchema.Column? idColumn = options.IdColumnName is null ? null : SchemaChecks.CheckIdColumn(schema, options.IdColumnName, "collection");
        DataViewSchema.Column? labelColumn = options.LabelColumnName is null ? null : SchemaChecks.CheckLabelColumn(schema, options.LabelColumnName, "collection");

        var columns = new List<DataViewSchema.Column> { feature };
        if (idColumn is { } idc) columns.Add(idc);
        if (labelColumn is { } lc) columns.Add(lc);

        long? rowCount = data.GetRowCount();
        int dimension = (feature.Type as VectorDataViewType)?.Size ?? 0;
        var vectors = new List<float[]>();
        var ids = idColumn is null ? null : new List<long>();
        var labels = labelColumn is null ? null : new List<string>();
        long row = 0;

        using (DataViewRowCursor cursor = data.GetRowCursor(columns))
        {
            ValueGetter<VBuffer<float>> getVector = cursor.GetGetter<VBuffer<float>>(feature);
            Func<long>? getId = idColumn is { } ic ? ColumnReaders.CreateIdGetter(cursor, ic) : null;
            Func<string>? getLabel = labelColumn is { } lc2 ? ColumnReaders.CreateLabelGetter(cursor, lc2) : null;
            VBuffer<float> vector = default;
            while (cursor.MoveNext())
            {
                if ((row & 1023) == 0)
                {
                    options.CancellationToken.ThrowIfCancellationRequested();
                    options.Progress?.Report(new IndexingProgress("read", row, rowCount ?? -1));
                }

                getVector(ref vector);
                if (dimension == 0)
                    dimension = vector.Length;
                if (vector.Length != dimension)
                    throw new InvalidDataException($"Row {row} of column '{feature.Name}' has {vector.Length} components but earlier rows have {dimension}. Every vector must have the same length.");
                if (dimension == 0)
                    throw new InvalidDataException($"Row {row} of column '{feature.Name}' is an empty vector. Vectors need at least one component.");

                var dense = new float[dimension];
                vector.CopyTo(dense);
                vectors.Add(dense);
                if (getId is not null)
                {
                    long id = getId();
                    if (id < 0)
                        throw new InvalidDataException($"Row {row} of column '{idColumn!.Value.Name}' has id {id}; ids must be 0 or greater (−1 marks padding in results).");
                    ids!.Add(id);
                }

                if (labels is not null)
                {
                    string label = getLabel!();
                    int labelBytes = System.Text.Encoding.UTF8.GetByteCount(label);
                    if (labelBytes > SearchState.MaxLabelBytes)
                        throw new InvalidDataException($"Row {row} of column '{labelColumn!.Value.Name}' has a label of {labelBytes} UTF-8 bytes; labels may have at most {SearchState.MaxLabelBytes}. Shorten the label or store it elsewhere under the item's id.");
                    labels.Add(label);
                }
                row++;
            }
        }

        if (row == 0)
            throw new InvalidOperationException($"The collection has no rows. Index at least one vector in column '{feature.Name}'.");
        if (row > int.MaxValue)
            throw new InvalidOperationException($"The collection has {row} rows, more than the {int.MaxValue} one index can store. Split it into several indexes.");

        var flat = new float[checked(vectors.Count * dimension)];
        for (int i = 0; i < vectors.Count; i++)
            vectors[i].CopyTo(flat, i * dimension);
        options.Progress?.Report(new IndexingProgress("read", row, row));
        return new CollectionData(flat, vectors.Count, dimension, ids?.ToArray(), labels?.ToArray());
    }
}

/// <summary>Column checks shared by estimators and transformers; schema errors are <see cref="ArgumentOutOfRangeException"/>, as in ML.NET.</summary>
internal static class SchemaChecks
{
    public static DataViewSchema.Column CheckFeatureColumn(DataViewSchema schema, string name, string role)
    {
        DataViewSchema.Column column = Find(schema, name, role, "vector of Single");
        if (column.Type is not VectorDataViewType { ItemType: NumberDataViewType item } || item != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The {role} column '{name}' has type {column.Type}; expected a vector of Single. Convert it, for example with ConvertType to DataKind.Single.");
        return column;
    }

    public static DataViewSchema.Column CheckIdColumn(DataViewSchema schema, string name, string role)
    {
        DataViewSchema.Column column = Find(schema, name, role, "integer id");
        if (!ColumnReaders.IsIdType(column.Type))
            throw new ArgumentOutOfRangeException(nameof(schema), $"The {role} id column '{name}' has type {column.Type}; expected {ColumnReaders.IdTypesText}.");
        return column;
    }

    public static DataViewSchema.Column CheckLabelColumn(DataViewSchema schema, string name, string role)
    {
        DataViewSchema.Column column = Find(schema, name, role, "label");
        if (!ColumnReaders.IsLabelType(column.Type))
            throw new ArgumentOutOfRangeException(nameof(schema), $"The {role} label column '{name}' has type {column.Type}; expected {ColumnReaders.LabelTypesText}.");
        return column;
    }

    public static void CheckFeatureColumn(SchemaShape shape, string name, string role)
    {
        SchemaShape.Column column = Find(shape, name, role, "vector of Single");
        if (column.Kind == SchemaShape.Column.VectorKind.Scalar || column.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(shape), $"The {role} column '{name}' is {Describe(column)}; expected a vector of Single.");
    }

    public static void CheckIdColumn(SchemaShape shape, string name, string role)
    {
        SchemaShape.Column column = Find(shape, name, role, "integer id");
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || !ColumnReaders.IsIdType(column.ItemType))
            throw new ArgumentOutOfRangeException(nameof(shape), $"The {role} id column '{name}' is {Describe(column)}; expected a scalar of {ColumnReaders.IdTypesText}.");
    }

    public static void CheckLabelColumn(SchemaShape shape, string name, string role)
    {
        SchemaShape.Column column = Find(shape, name, role, "label");
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || !ColumnReaders.IsLabelType(column.ItemType))
            throw new ArgumentOutOfRangeException(nameof(shape), $"The {role} label column '{name}' is {Describe(column)}; expected a scalar of {ColumnReaders.LabelTypesText}.");
    }

    private static DataViewSchema.Column Find(DataViewSchema schema, string name, string role, string what) =>
        schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(schema),
            $"The {role} data has no column '{name}' ({what}). Its columns are: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");

    private static SchemaShape.Column Find(SchemaShape shape, string name, string role, string what) =>
        shape.FirstOrDefault(c => c.Name == name) is { Name: not null } column ? column : throw new ArgumentOutOfRangeException(nameof(shape),
            $"The {role} data has no column '{name}' ({what}). Its columns are: {string.Join(", ", shape.Select(c => c.Name))}.");

    private static string Describe(SchemaShape.Column column) => column.Kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => $"a scalar of {column.ItemType}",
        SchemaShape.Column.VectorKind.Vector => $"a known-size vector of {column.ItemType}",
        _ => $"a variable-size vector of {column.ItemType}",
    };
}
