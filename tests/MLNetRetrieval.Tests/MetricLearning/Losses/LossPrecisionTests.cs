using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Losses;

namespace MLNetRetrieval.Tests.MetricLearning.Losses;

/// <summary>
/// The single-precision path (blocked GEMM kernel) against the double-precision path (plain dot products)
/// on batches larger than the PyTorch reference cases.
/// </summary>
public sealed class LossPrecisionTests
{
    /// <summary>Relative tolerance on the loss value.</summary>
    private const double ValueTolerance = 1e-4;

    /// <summary>Tolerance on each gradient component, relative to the largest component.</summary>
    private const double GradientTolerance = 1e-3;

    public static TheoryData<string> LossNames() =>
        ["contrastive", "triplet-all", "triplet-hard", "triplet-semi", "center", "softmax", "cosface", "arcface", "sphereface"];

    [Theory]
    [MemberData(nameof(LossNames))]
    public void FloatPathMatchesDoublePath(string name)
    {
        // 8 classes × 8 rows, as a class-balanced sampler would draw them. Mining compares distances, so a
        // rounding difference between float and double can flip a near-tie and move the gradient by a whole
        // triplet. With 64 rows, ties within float rounding (about 1e-6 in D²) are rare.
        const int classes = 8;
        const int perClass = 8;
        const int dimension = 32;
        int rows = classes * perClass;
        MetricLoss loss = Create(name);
        loss.Initialize(dimension, classes, new Random(21));
        float[] embeddings = LossEdgeCaseTests.RandomMatrix(rows, dimension, seed: 22);
        int[] labels = Enumerable.Range(0, rows).Select(row => row % classes).ToArray();
        double[][] parameters = loss.Parameters.Select(parameter => Array.ConvertAll(parameter.Values, value => (double)value)).ToArray();
        var floatGradient = new float[embeddings.Length];

        float floatValue = loss.Compute(embeddings, labels, floatGradient);
        FiniteDifferences.Evaluation reference = FiniteDifferences.Evaluate(
            (IDoublePrecisionLoss)loss, Array.ConvertAll(embeddings, value => (double)value), labels, parameters);

        Assert.True(Math.Abs(floatValue - reference.Value) <= ValueTolerance * Math.Max(1, Math.Abs(reference.Value)),
            $"float loss {floatValue}, double loss {reference.Value}");
        double largest = reference.EmbeddingGradient.Max(Math.Abs);
        Assert.True(largest > 0, "the reference gradient is zero, so the comparison would prove nothing");
        for (int i = 0; i < floatGradient.Length; i++)
        {
            Assert.True(Math.Abs(floatGradient[i] - reference.EmbeddingGradient[i]) <= GradientTolerance * largest,
                $"gradient[{i}]: float {floatGradient[i]}, double {reference.EmbeddingGradient[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void FullSizeBatchIsFinite(string name)
    {
        const int classes = 10;
        const int rows = 1024;
        const int dimension = 128;
        MetricLoss loss = Create(name);
        loss.Initialize(dimension, classes, new Random(31));
        float[] embeddings = LossEdgeCaseTests.RandomMatrix(rows, dimension, seed: 32);
        int[] labels = Enumerable.Range(0, rows).Select(row => row % classes).ToArray();
        var gradient = new float[embeddings.Length];

        float value = loss.Compute(embeddings, labels, gradient);

        Assert.True(float.IsFinite(value), $"loss is {value}");
        Assert.True(gradient.All(float.IsFinite), "the gradient has a non-finite component");
    }

    private static MetricLoss Create(string name) => name switch
    {
        "contrastive" => new ContrastiveLoss(margin: 10),
        "triplet-all" => new TripletLoss(TripletMining.BatchAll, margin: 1),
        "triplet-hard" => new TripletLoss(TripletMining.BatchHard, margin: 1),
        "triplet-semi" => new TripletLoss(TripletMining.SemiHard, margin: 1),
        "center" => new CenterLoss(centerWeight: 0.1),
        "softmax" => new NormalizedSoftmaxLoss(),
        "cosface" => new CosFaceLoss(),
        "arcface" => new ArcFaceLoss(scale: 64),
        "sphereface" => new SphereFaceLoss(lambdaBase: 0, lambdaMin: 0),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown loss name."),
    };
}
