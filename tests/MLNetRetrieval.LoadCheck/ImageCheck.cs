using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

/// <summary>
/// Scores image files with a saved image model, using plain ML.NET calls only.
/// </summary>
/// <remarks>
/// Usage: <c>MLNetRetrieval.LoadCheck --images MODEL.zip PATHS.txt OUTPUT.bin [paths|bytes] [EMBEDDING_COLUMN]</c>.
/// PATHS.txt has one image path per line. With <c>paths</c> (the default), the input column "ImagePath"
/// contains the paths as Text. With <c>bytes</c>, the program reads each file, and the column
/// "ImageBytes" contains its bytes as a vector of Byte. OUTPUT.bin, per row in order: i32 n, n × f32 embedding
/// (EMBEDDING_COLUMN, default "Embedding"), i32 byteCount, UTF-8 failure text (the embedding column's
/// name followed by "Failure"), then, when the model has
/// a neighbor search, i32 k, k × i64 ids, i32 k, k × f32 distances. The program prints whether the
/// ResNet18 package's model folder is next to it, so a test can prove that the zip alone suffices.
/// </remarks>
internal static class ImageCheck
{
    public const string Mode = "--images";

    public static int Run(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: MLNetRetrieval.LoadCheck --images MODEL.zip PATHS.txt OUTPUT.bin [paths|bytes] [EMBEDDING_COLUMN]");
            return 2;
        }

        bool bytes = args.Length > 3 && args[3] == "bytes";
        string embeddingColumn = args.Length > 4 ? args[4] : "Embedding";
        var context = new MLContext(seed: 1);
        ITransformer model = context.Model.Load(args[0], out _);
        string[] paths = File.ReadAllLines(args[1]);

        IDataView input = bytes
            ? context.Data.LoadFromEnumerable(paths.Select(p => new BytesRow { ImageBytes = File.ReadAllBytes(p) }).ToArray())
            : context.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }).ToArray());
        IDataView scored = model.Transform(input);
        DataViewSchema schema = scored.Schema;

        using var writer = new BinaryWriter(File.Create(args[2]));
        using DataViewRowCursor cursor = scored.GetRowCursor(schema);
        var getEmbedding = cursor.GetGetter<VBuffer<float>>(schema[embeddingColumn]);
        var getFailure = cursor.GetGetter<ReadOnlyMemory<char>>(schema[embeddingColumn + "Failure"]);
        bool searches = schema.GetColumnOrNull("NeighborIds") is not null;
        var getIds = searches ? cursor.GetGetter<VBuffer<long>>(schema["NeighborIds"]) : null;
        var getDistances = searches ? cursor.GetGetter<VBuffer<float>>(schema["Distances"]) : null;
        VBuffer<float> embedding = default;
        ReadOnlyMemory<char> failure = default;
        VBuffer<long> ids = default;
        VBuffer<float> distances = default;
        while (cursor.MoveNext())
        {
            getEmbedding(ref embedding);
            getFailure(ref failure);
            writer.Write(embedding.Length);
            foreach (float value in embedding.DenseValues())
                writer.Write(value);
            byte[] text = Encoding.UTF8.GetBytes(failure.ToString());
            writer.Write(text.Length);
            writer.Write(text);
            if (getIds is null || getDistances is null)
                continue;

            getIds(ref ids);
            getDistances(ref distances);
            writer.Write(ids.Length);
            foreach (long id in ids.DenseValues())
                writer.Write(id);
            writer.Write(distances.Length);
            foreach (float distance in distances.DenseValues())
                writer.Write(distance);
        }

        bool folder = Directory.Exists(Path.Combine(AppContext.BaseDirectory, "DnnImageModels"));
        Console.WriteLine($"scored {paths.Length} images; embedding type {schema[embeddingColumn].Type}; DnnImageModels folder present: {folder}");
        return 0;
    }

    private sealed class PathRow
    {
        public string ImagePath = string.Empty;
    }

    private sealed class BytesRow
    {
        [VectorType]
        public byte[] ImageBytes = [];
    }
}
