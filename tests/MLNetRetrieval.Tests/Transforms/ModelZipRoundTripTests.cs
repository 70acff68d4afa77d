using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.IO;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Transforms;

/// <summary>Saves models with ML.NET and loads them in a separate process that makes plain ML.NET calls only.</summary>
public sealed class ModelZipRoundTripTests
{
    private const string LoadCheck = "MLNetRetrieval.LoadCheck.dll";
    private const string FashionMnistFolder = "/usr/share/datasets/fashion-mnist";

    [Fact]
    public void NormalizerChainBitIdenticalInNewProcess()
    {
        const int dimension = 12;
        var context = new MLContext(seed: 1);
        ItemRow[] collection = TestData.IntegerRows(300, dimension, seed: 21, maxValue: 50);
        ItemRow[] queries = TestData.IntegerRows(40, dimension, seed: 22, maxValue: 50);
        IDataView view = TestData.View(context, collection, dimension);
        var pipeline = context.Transforms.NormalizeLpNorm("Features")
            .Append(context.Retrieval().IndexExact(new ExactIndexingEstimator.Options { IdColumnName = "Id", LabelColumnName = "Label", NumberOfNeighbors = 8 }));
        ITransformer model = pipeline.Fit(view);
        string folder = TestData.TempDirectory();
        context.Model.Save(model, view.Schema, Path.Combine(folder, "model.zip"));

        var (expectedIds, expectedDistances) = Score(context, model, queries, dimension);
        var (actualIds, actualDistances, output) = ScoreInNewProcess(folder, queries, dimension);

        Assert.Equal(expectedIds, actualIds);
        Assert.Equal(Bits(expectedDistances), Bits(actualDistances));
        Assert.Contains("MLNetRetrieval", output);
    }

    [Fact]
    public void FashionMnistTrainBitIdenticalInNewProcess()
    {
        const int dimension = 784;
        var context = new MLContext(seed: 1);
        VectorSet trainSet = VectorFile.Read(Path.Combine(FashionMnistFolder, "train-images-idx3-ubyte.gz"));
        float[] train = trainSet.Values;
        float[] test = VectorFile.Read(Path.Combine(FashionMnistFolder, "t10k-images-idx3-ubyte.gz")).Values;
        int count = trainSet.Count;
        Assert.Equal(60000, count);
        var collection = new ItemRow[count];
        for (int i = 0; i < count; i++)
            collection[i] = new ItemRow { Features = train.AsSpan(i * dimension, dimension).ToArray(), Id = i };
        ItemRow[] queries = Enumerable.Range(0, 50).Select(i => new ItemRow { Features = test.AsSpan(i * 97 * dimension, dimension).ToArray(), Id = i }).ToArray();
        IDataView view = TestData.View(context, collection, dimension);
        ITransformer model = context.Retrieval().IndexExact(new ExactIndexingEstimator.Options { NumberOfNeighbors = 10 }).Fit(view);
        string folder = TestData.TempDirectory();
        string path = Path.Combine(folder, "model.zip");
        context.Model.Save(model, view.Schema, path);

        var (expectedIds, expectedDistances) = Score(context, model, queries, dimension);
        var (actualIds, actualDistances, _) = ScoreInNewProcess(folder, queries, dimension);

        Assert.Equal(expectedIds, actualIds);
        Assert.Equal(Bits(expectedDistances), Bits(actualDistances));
        Assert.True(new FileInfo(path).Length > 60000L * dimension / 8, "the zip must hold the collection");
        Directory.Delete(folder, recursive: true);
    }

    private static (long[] Ids, float[] Distances) Score(MLContext context, ITransformer model, ItemRow[] queries, int dimension)
    {
        IDataView scored = model.Transform(TestData.View(context, queries, dimension));
        return (scored.GetColumn<long[]>("NeighborIds").SelectMany(v => v).ToArray(),
                scored.GetColumn<float[]>("Distances").SelectMany(v => v).ToArray());
    }

    private static (long[] Ids, float[] Distances, string Output) ScoreInNewProcess(string folder, ItemRow[] queries, int dimension)
    {
        string queryFile = Path.Combine(folder, "queries.bin");
        using (var writer = new BinaryWriter(File.Create(queryFile)))
        {
            writer.Write(queries.Length);
            writer.Write(dimension);
            foreach (ItemRow query in queries)
                foreach (float value in query.Features)
                    writer.Write(value);
        }

        string resultFile = Path.Combine(folder, "result.bin");
        var (exitCode, output) = TestData.RunDotnet(LoadCheck, Path.Combine(folder, "model.zip"), queryFile, resultFile);
        Assert.True(exitCode == 0, output);

        var ids = new List<long>();
        var distances = new List<float>();
        using var reader = new BinaryReader(File.OpenRead(resultFile));
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            int k = reader.ReadInt32();
            for (int i = 0; i < k; i++) ids.Add(reader.ReadInt64());
            k = reader.ReadInt32();
            for (int i = 0; i < k; i++) distances.Add(reader.ReadSingle());
        }

        return (ids.ToArray(), distances.ToArray(), output);
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}

