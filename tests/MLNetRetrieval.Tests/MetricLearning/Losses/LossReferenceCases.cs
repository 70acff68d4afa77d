using System.Runtime.CompilerServices;
using System.Text.Json;
using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Losses;

namespace MLNetRetrieval.Tests.MetricLearning.Losses;

/// <summary>
/// One case of TestData/metric_losses_reference.json, written by tests/reference/metric_losses.py with
/// PyTorch 1.13 autograd in float64: a loss, its settings, a batch, the loss's parameters, and the expected
/// loss value and gradients.
/// </summary>
internal sealed class LossReferenceCase
{
    public required string Name { get; init; }

    public required string Loss { get; init; }

    public required JsonElement Config { get; init; }

    public required int Rows { get; init; }

    public required int Dimension { get; init; }

    public required int Classes { get; init; }

    public required double[] Embeddings { get; init; }

    public required int[] Labels { get; init; }

    public required double[][] Parameters { get; init; }

    public required double LossValue { get; init; }

    public required double[] EmbeddingGradient { get; init; }

    public required double[][] ParameterGradients { get; init; }

    public double[]? UpdatedCenters { get; init; }

    public double? Lambda { get; init; }

    public override string ToString() => Name;

    /// <summary>Builds the loss the case describes, initialized and loaded with the case's parameter values.</summary>
    public MetricLoss CreateLoss()
    {
        MetricLoss loss = Loss switch
        {
            "contrastive" => new ContrastiveLoss(Number("margin")),
            "triplet" => new TripletLoss(Enum.Parse<TripletMining>(Config.GetProperty("mining").GetString()!), Number("margin")),
            "center" => new CenterLoss(Number("center_weight"), Number("center_rate")),
            "normalized_softmax" => new NormalizedSoftmaxLoss(Number("scale"), Config.GetProperty("normalize").GetBoolean()),
            "cosface" => new CosFaceLoss(Number("scale"), Number("margin")),
            "arcface" => new ArcFaceLoss(Number("scale"), Number("margin"), Config.GetProperty("easy_margin").GetBoolean()),
            "sphereface" => new SphereFaceLoss(
                (int)Number("margin"), Number("lambda_base"), Number("lambda_gamma"), Number("lambda_power"), Number("lambda_min")),
            _ => throw new InvalidDataException($"Reference case {Name} names an unknown loss '{Loss}'."),
        };

        loss.Initialize(Dimension, Classes, new Random(5));
        Assert.Equal(Parameters.Length, loss.Parameters.Count);
        for (int p = 0; p < Parameters.Length; p++)
        {
            Assert.Equal(Parameters[p].Length, loss.Parameters[p].Values.Length);
            for (int i = 0; i < Parameters[p].Length; i++)
            {
                loss.Parameters[p].Values[i] = (float)Parameters[p][i];
            }
        }

        if (loss is CenterLoss center)
        {
            center.SetCenters(ToFloats(Doubles(Config.GetProperty("centers"))));
        }

        if (loss is SphereFaceLoss && Config.TryGetProperty("step", out JsonElement step) && step.GetInt64() > 0)
        {
            loss.OnStepCompleted(step.GetInt64());
        }

        return loss;
    }

    public static float[] ToFloats(double[] values) => Array.ConvertAll(values, value => (float)value);

    private double Number(string name) => Config.GetProperty(name).GetDouble();

    private static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(item => item.GetDouble()).ToArray();

    private static double[][] DoubleArrays(JsonElement array) => array.EnumerateArray().Select(Doubles).ToArray();

    /// <summary>Reads every case of the committed reference file.</summary>
    public static IReadOnlyList<LossReferenceCase> LoadAll() => Cached.Value;

    public static LossReferenceCase Get(string name) => LoadAll().Single(item => item.Name == name);

    private static readonly Lazy<IReadOnlyList<LossReferenceCase>> Cached = new(() => Read(ReferencePath()));

    private static IReadOnlyList<LossReferenceCase> Read(string path)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        var cases = new List<LossReferenceCase>();
        foreach (JsonElement item in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            cases.Add(new LossReferenceCase
            {
                Name = item.GetProperty("name").GetString()!,
                Loss = item.GetProperty("loss").GetString()!,
                Config = item.GetProperty("config").Clone(),
                Rows = item.GetProperty("rows").GetInt32(),
                Dimension = item.GetProperty("dimension").GetInt32(),
                Classes = item.GetProperty("classes").GetInt32(),
                Embeddings = Doubles(item.GetProperty("embeddings")),
                Labels = item.GetProperty("labels").EnumerateArray().Select(label => label.GetInt32()).ToArray(),
                Parameters = DoubleArrays(item.GetProperty("parameters")),
                LossValue = item.GetProperty("loss_value").GetDouble(),
                EmbeddingGradient = Doubles(item.GetProperty("embedding_gradient")),
                ParameterGradients = DoubleArrays(item.GetProperty("parameter_gradients")),
                UpdatedCenters = item.TryGetProperty("updated_centers", out JsonElement centers) ? Doubles(centers) : null,
                Lambda = item.TryGetProperty("lambda", out JsonElement lambda) ? lambda.GetDouble() : null,
            });
        }

        return cases;
    }

    private static string ReferencePath([CallerFilePath] string sourcePath = "") =>
        Path.Combine(Path.GetDirectoryName(sourcePath)!, "..", "..", "TestData", "metric_losses_reference.json");
}
