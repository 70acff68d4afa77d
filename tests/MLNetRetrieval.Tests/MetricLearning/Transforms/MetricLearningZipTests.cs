using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.Tests.Transforms;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.MetricLearning.Transforms;

/// <summary>Saves learned embeddings with ML.NET and loads them in this process and in a separate one.</summary>
public sealed class MetricLearningZipTests
{
    private const string LoadCheck = "MLNetRetrieval.LoadCheck.dll";

    [Fact]
    public void EmbeddingBitIdenticalInNewProcess()
    {
        var context = new MLContext(seed: 1);
        LabeledRow[] rows = MetricTestData.Clusters(15, 3, seed: 8);
        IDataView view = MetricTestData.View(context, rows);
        MetricLearningEstimator.Options options = MetricTestData.FastOptions(MetricLossKind.ArcFace);
        options.InputScale = 0.5f;
        MetricLearningTransformer model = context.Retrieval().TrainMetric("Embedding", "Features", "Label", options).Fit(view);
        string folder = TestData.TempDirectory();
        string zip = Path.Combine(folder, "head.zip");
        context.Model.Save(model, view.Schema, zip);
        float[] expected = MetricTestData.ReadVectors(model.Transform(view), "Embedding");

        string rowsFile = WriteRows(folder, rows);
        string output = Path.Combine(folder, "embedded.bin");
        var (exitCode, log) = TestData.RunDotnet(LoadCheck, "--embed", zip, rowsFile, output, "Embedding");

        Assert.True(exitCode == 0, log);
        Assert.Equal(MetricTestData.Bits(expected), MetricTestData.Bits(ReadEmbeddings(output)));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void ChainWithIndexBitIdenticalInNewProcess()
    {
        var context = new MLContext(seed: 1);
        LabeledRow[] rows = MetricTestData.Clusters(15, 3, seed: 9);
        IDataView view = MetricTestData.View(context, rows);
        var pipeline = context.Retrieval().TrainMetric("Embedding", "Features", "Label", MetricTestData.FastOptions(MetricLossKind.Triplet))
            .Append(context.Retrieval().IndexExact("Embedding", numberOfNeighbors: 5, idColumnName: "Id"));
        ITransformer model = pipeline.Fit(view);
        string folder = TestData.TempDirectory();
        context.Model.Save(model, view.Schema, Path.Combine(folder, "model.zip"));
        IDataView scored = model.Transform(view);
        long[] expectedIds = scored.GetColumn<long[]>("NeighborIds").SelectMany(v => v).ToArray();
        float[] expectedDistances = MetricTestData.ReadVectors(scored, "Distances");

        string rowsFile = WriteRows(folder, rows);
        string output = Path.Combine(folder, "result.bin");
        var (exitCode, log) = TestData.RunDotnet(LoadCheck, Path.Combine(folder, "model.zip"), rowsFile, output);
        var (ids, distances) = ReadNeighbors(output);

        Assert.True(exitCode == 0, log);
        Assert.Equal(expectedIds, ids);
        Assert.Equal(MetricTestData.Bits(expectedDistances), MetricTestData.Bits(distances));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void LoadedModelYieldsSameHead()
    {
        var context = new MLContext(seed: 1);
        LabeledRow[] rows = MetricTestData.Clusters(10, 3, seed: 10);
        IDataView view = MetricTestData.View(context, rows);
        MetricLearningTransformer model = context.Retrieval().TrainMetric("Embedding", "Features", "Label", MetricTestData.FastOptions()).Fit(view);
        string folder = TestData.TempDirectory();
        string zip = Path.Combine(folder, "head.zip");
        context.Model.Save(model, view.Schema, zip);

        ITransformer loaded = new MLContext(seed: 2).Model.Load(zip, out _);
        IReadOnlyList<EmbeddingHead> heads = context.Retrieval().GetEmbeddingHeads(loaded);
        float[] input = rows.SelectMany(r => r.Features).ToArray();
        var expected = new float[rows.Length * MetricTestData.EmbeddingDimension];
        var actual = new float[expected.Length];
        model.Head.Transform(input, expected);
        heads[0].Transform(input, actual);

        Assert.Single(heads);
        Assert.Equal(MetricTestData.Bits(expected), MetricTestData.Bits(actual));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void TruncatedHeadStateRejected()
    {
        var context = new MLContext(seed: 1);
        LabeledRow[] rows = MetricTestData.Clusters(10, 2, seed: 11);
        MetricLearningTransformer model = context.Retrieval().TrainMetric("Embedding", "Features", "Label", MetricTestData.FastOptions())
            .Fit(MetricTestData.View(context, rows));
        byte[] truncated = new EmbeddingState(model.Head, 1f).Serialize()[..^5];

        var error = Assert.Throws<InvalidDataException>(() => EmbeddingState.Deserialize(truncated));

        Assert.Contains("head length", error.Message);
    }

    [Fact]
    public void ForeignSignatureRejected()
    {
        byte[] bytes = [(byte)'M', (byte)'L', (byte)'N', (byte)'R', (byte)'S', (byte)'R', (byte)'C', (byte)'H', 1, 0, 0, 0, 1, 0, 0, 0];

        var error = Assert.Throws<InvalidDataException>(() => EmbeddingState.Deserialize(bytes));

        Assert.Contains("signature", error.Message);
    }

    private static string WriteRows(string folder, LabeledRow[] rows)
    {
        string path = Path.Combine(folder, "rows.bin");
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(rows.Length);
        writer.Write(MetricTestData.Dimension);
        foreach (LabeledRow row in rows)
            foreach (float value in row.Features)
                writer.Write(value);
        return path;
    }

    private static float[] ReadEmbeddings(string path)
    {
        var values = new List<float>();
        using var reader = new BinaryReader(File.OpenRead(path));
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            int length = reader.ReadInt32();
            for (int i = 0; i < length; i++)
                values.Add(reader.ReadSingle());
        }

        return values.ToArray();
    }

    private static (long[] Ids, float[] Distances) ReadNeighbors(string path)
    {
        var ids = new List<long>();
        var distances = new List<float>();
        using var reader = new BinaryReader(File.OpenRead(path));
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            int k = reader.ReadInt32();
            for (int i = 0; i < k; i++) ids.Add(reader.ReadInt64());
            k = reader.ReadInt32();
            for (int i = 0; i < k; i++) distances.Add(reader.ReadSingle());
        }

        return (ids.ToArray(), distances.ToArray());
    }
}
