using System.Globalization;
using MLNetRetrieval.IO;
using MLNetRetrieval.Tests.Cli;

namespace MLNetRetrieval.Tests.MetricLearning.Transforms;

/// <summary>train-metric and the --transform option of index, search and evaluate, run in-process.</summary>
public sealed class CliTrainMetricTests
{
    private static readonly string[] FastTraining = ["--hidden", "8", "--dim", "4", "--epochs", "2", "--batch", "16", "--threads", "1", "--validation", "0", "-q"];

    [Fact]
    public void TrainIndexEvaluateRoundTrip()
    {
        string folder = CliHarness.TempDirectory();
        (string vectors, string labels) = WriteTrainingSet(folder);
        string head = Path.Combine(folder, "head.zip");
        string index = Path.Combine(folder, "index.zip");

        CliResult train = CliHarness.Run(["train-metric", "--train", vectors, "--labels", labels, "--loss", "cosface", .. FastTraining, "--out", head]);
        CliResult build = CliHarness.Run("index", "--input", vectors, "--labels", labels, "--transform", head, "--exclude-self", "--k", "10", "--output", index, "-q");
        CliResult evaluate = CliHarness.Run("evaluate", "--model", index, "--queries", vectors, "--labels", labels, "--json", "-q");

        CliHarness.AssertSuccess(train);
        CliHarness.AssertSuccess(build);
        CliHarness.AssertSuccess(evaluate);
        Assert.Contains("\"MeanMapAtR\"", evaluate.Output);
    }

    [Fact]
    public void SearchTransformMatchesIndexedTransform()
    {
        string folder = CliHarness.TempDirectory();
        (string vectors, string labels) = WriteTrainingSet(folder);
        string head = Path.Combine(folder, "head.zip");
        CliHarness.AssertSuccess(CliHarness.Run(["train-metric", "--train", vectors, "--labels", labels, "--loss", "triplet", .. FastTraining, "--out", head]));

        // Path 1: the index zip contains the head. Path 2: an index over embedded vectors, with the head given to search.
        string combined = Path.Combine(folder, "combined.zip");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", vectors, "--labels", labels, "--transform", head, "--k", "5", "--output", combined, "-q"));
        string embedded = Path.Combine(folder, "embedded.npy");
        VectorSet original = VectorFile.Read(vectors);
        var context = new Microsoft.ML.MLContext(seed: 1);
        VectorSet mapped = MLNetRetrieval.Cli.TransformModelFile.Load(context, head).Apply(context, original, vectors, CancellationToken.None);
        VectorFile.WriteNpy(embedded, mapped.Values, mapped.Count, mapped.Dimension);
        string plain = Path.Combine(folder, "plain.zip");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", embedded, "--labels", labels, "--k", "5", "--output", plain, "-q"));

        string first = Path.Combine(folder, "first.csv");
        string second = Path.Combine(folder, "second.csv");
        CliResult viaCombined = CliHarness.Run("search", "--model", combined, "--queries", vectors, "--output", first, "-q");
        CliResult viaTransform = CliHarness.Run("search", "--model", plain, "--queries", vectors, "--transform", head, "--output", second, "-q");

        CliHarness.AssertSuccess(viaCombined);
        CliHarness.AssertSuccess(viaTransform);
        Assert.Equal(File.ReadAllText(first), File.ReadAllText(second));
    }

    [Fact]
    public void TrainWithoutInputIsUsageError()
    {
        CliResult result = CliHarness.Run("train-metric", "--loss", "arcface", "--out", Path.Combine(CliHarness.TempDirectory(), "head.zip"));

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--fashion-mnist");
    }

    [Fact]
    public void MiningWithArcFaceIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        (string vectors, string labels) = WriteTrainingSet(folder);

        CliResult result = CliHarness.Run("train-metric", "--train", vectors, "--labels", labels, "--loss", "arcface", "--mining", "semi-hard", "--out", Path.Combine(folder, "head.zip"));

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--mining");
    }

    [Theory]
    [InlineData("--margin", "-1")]
    [InlineData("--scale", "abc")]
    [InlineData("--hidden", "512,x")]
    [InlineData("--dim", "0")]
    [InlineData("--epochs", "1.5")]
    [InlineData("--validation", "0.9")]
    [InlineData("--loss", "hinge")]
    [InlineData("--optimizer", "rmsprop")]
    public void BadValueIsUsageError(string option, string value)
    {
        string[] args = option == "--loss"
            ? ["train-metric", "--fashion-mnist", "--loss", value, "--out", "head.zip"]
            : ["train-metric", "--fashion-mnist", "--loss", "cosface", option, value, "--out", "head.zip"];

        CliResult result = CliHarness.Run(args);

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, option == "--hidden" ? "'x'" : value);
    }

    [Fact]
    public void TrainWithoutLabelsIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        (string vectors, _) = WriteTrainingSet(folder);

        CliResult result = CliHarness.Run("train-metric", "--train", vectors, "--loss", "softmax", "--out", Path.Combine(folder, "head.zip"));

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "--labels");
    }

    [Fact]
    public void MissingTransformFileIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        (string vectors, string labels) = WriteTrainingSet(folder);

        CliResult result = CliHarness.Run("index", "--input", vectors, "--labels", labels, "--transform", Path.Combine(folder, "absent.zip"), "--output", Path.Combine(folder, "index.zip"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "absent.zip");
    }

    [Fact]
    public void IndexZipAsTransformIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        (string vectors, string labels) = WriteTrainingSet(folder);
        string index = Path.Combine(folder, "index.zip");
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", vectors, "--labels", labels, "--output", index, "-q"));

        CliResult result = CliHarness.Run("index", "--input", vectors, "--transform", index, "--output", Path.Combine(folder, "other.zip"));

        Assert.Equal(1, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "no learned embedding");
    }

    [Fact]
    public void TransformTwiceIsUsageError()
    {
        string folder = CliHarness.TempDirectory();
        (string vectors, string labels) = WriteTrainingSet(folder);
        string head = Path.Combine(folder, "head.zip");
        string index = Path.Combine(folder, "index.zip");
        CliHarness.AssertSuccess(CliHarness.Run(["train-metric", "--train", vectors, "--labels", labels, "--loss", "center", .. FastTraining, "--out", head]));
        CliHarness.AssertSuccess(CliHarness.Run("index", "--input", vectors, "--labels", labels, "--transform", head, "--output", index, "-q"));

        CliResult result = CliHarness.Run("search", "--model", index, "--queries", vectors, "--transform", head, "--output", Path.Combine(folder, "out.csv"));

        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertOneErrorLine(result, "drop --transform");
    }

    [Fact]
    public void TransformOfOtherDimensionIsDataError()
    {
        string folder = CliHarness.TempDirectory();
        (string vectors, string labels) = WriteTrainingSet(folder);
        string head = Path.Combine(folder, "head.zip");
        CliHarness.AssertSuccess(CliHarness.Run(["train-metric", "--train", vectors, "--labels", labels, "--loss", "contrastive", .. FastTraining, "--out", head]));
        string other = Path.Combine(folder, "other.csv");
        VectorFile.WriteCsv(other, CliHarness.IntegerVectors(20, 5, seed: 3));

        CliResult result = CliHarness.Run("index", "--input", other, "--id-column", "id", "--label-column", "label", "--transform", head, "--output", Path.Combine(folder, "index.zip"));

        Assert.True(result.ExitCode == 1, result.Error);
        CliHarness.AssertOneErrorLine(result, "dimension 5");
    }

    private static (string Vectors, string Labels) WriteTrainingSet(string folder)
    {
        LabeledRow[] rows = MetricTestData.Clusters(16, 3, seed: 12);
        string vectors = Path.Combine(folder, "train.fvecs");
        string labels = Path.Combine(folder, "labels.txt");
        VectorFile.WriteFvecs(vectors, rows.SelectMany(r => r.Features).ToArray(), MetricTestData.Dimension);
        File.WriteAllLines(labels, rows.Select(r => r.Label));
        return (vectors, labels);
    }
}
