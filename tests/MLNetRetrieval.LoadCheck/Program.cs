using Microsoft.ML;
using Microsoft.ML.Data;

// Usage: MLNetRetrieval.LoadCheck MODEL.zip QUERIES.bin OUTPUT.bin [QUERY_ID_COLUMN]
// QUERIES.bin: i32 count, i32 dimension, then count × dimension float32 (little-endian); rows get
// ids 0..count-1 in an Int64 column named by QUERY_ID_COLUMN (default "Id").
// OUTPUT.bin: per query, i32 k, k × i64 ids, i32 k, k × f32 distances, in row order.
// The program touches only ML.NET types, so it proves that a saved model needs no special loader.
// The image mode is described in ImageCheck.cs.
if (args.Length > 0 && args[0] == ImageCheck.Mode)
    return ImageCheck.Run(args[1..]);

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: MLNetRetrieval.LoadCheck MODEL.zip QUERIES.bin OUTPUT.bin [QUERY_ID_COLUMN]");
    return 2;
}

var context = new MLContext(seed: 1);
ITransformer model = context.Model.Load(args[0], out DataViewSchema inputSchema);

using var reader = new BinaryReader(File.OpenRead(args[1]));
int count = reader.ReadInt32();
int dimension = reader.ReadInt32();
var rows = new QueryRow[count];
for (int i = 0; i < count; i++)
{
    var values = new float[dimension];
    for (int j = 0; j < dimension; j++)
        values[j] = reader.ReadSingle();
    rows[i] = new QueryRow { Features = values, Id = i };
}

SchemaDefinition definition = SchemaDefinition.Create(typeof(QueryRow));
definition[nameof(QueryRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
definition[nameof(QueryRow.Id)].ColumnName = args.Length > 3 ? args[3] : "Id";
IDataView queries = context.Data.LoadFromEnumerable(rows, definition);
IDataView scored = model.Transform(queries);

using var writer = new BinaryWriter(File.Create(args[2]));
using DataViewRowCursor cursor = scored.GetRowCursor(scored.Schema);
var getIds = cursor.GetGetter<VBuffer<long>>(scored.Schema["NeighborIds"]);
var getDistances = cursor.GetGetter<VBuffer<float>>(scored.Schema["Distances"]);
VBuffer<long> ids = default;
VBuffer<float> distances = default;
while (cursor.MoveNext())
{
    getIds(ref ids);
    getDistances(ref distances);
    writer.Write(ids.Length);
    foreach (long id in ids.DenseValues())
        writer.Write(id);
    writer.Write(distances.Length);
    foreach (float distance in distances.DenseValues())
        writer.Write(distance);
}

Console.WriteLine($"scored {count} queries; assemblies: {string.Join(", ", AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).Where(n => n!.StartsWith("MLNet", StringComparison.Ordinal)))}");
return 0;

internal sealed class QueryRow
{
    public float[] Features = [];

    public long Id;
}
