using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Losses;

namespace MLNetRetrieval.Tests.MetricLearning.Losses;

/// <summary>
/// Every loss against the stored PyTorch values (tests/reference/metric_losses.py) and against central
/// finite differences.
/// </summary>
public sealed class LossReferenceTests
{
    /// <summary>Allowed difference between the single-precision path and PyTorch's float64 values.</summary>
    private const double FloatTolerance = 1e-5;

    /// <summary>Allowed difference between the double-precision path and PyTorch's float64 values.</summary>
    private const double DoubleTolerance = 1e-10;

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (LossReferenceCase item in LossReferenceCase.LoadAll())
        {
            names.Add(item.Name);
        }

        return names;
    }

    [Fact]
    public void ReferenceFileCoversEveryLoss()
    {
        var losses = LossReferenceCase.LoadAll().Select(item => item.Loss).ToHashSet();

        string[] expected = ["contrastive", "triplet", "center", "normalized_softmax", "cosface", "arcface", "sphereface"];
        foreach (string loss in expected)
        {
            Assert.Contains(loss, losses);
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void FloatLossMatchesPyTorch(string name)
    {
        LossReferenceCase item = LossReferenceCase.Get(name);
        MetricLoss loss = item.CreateLoss();
        var gradient = new float[item.Embeddings.Length];

        float value = loss.Compute(LossReferenceCase.ToFloats(item.Embeddings), item.Labels, gradient);

        Assert.Equal(item.LossValue, value, FloatTolerance);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void FloatGradientsMatchPyTorch(string name)
    {
        LossReferenceCase item = LossReferenceCase.Get(name);
        MetricLoss loss = item.CreateLoss();
        var gradient = new float[item.Embeddings.Length];

        loss.Compute(LossReferenceCase.ToFloats(item.Embeddings), item.Labels, gradient);

        AssertClose("embedding gradient", item.EmbeddingGradient, Array.ConvertAll(gradient, value => (double)value), FloatTolerance);
        for (int p = 0; p < item.ParameterGradients.Length; p++)
        {
            double[] actual = Array.ConvertAll(loss.Parameters[p].Gradient, value => (double)value);
            AssertClose(loss.Parameters[p].Name, item.ParameterGradients[p], actual, FloatTolerance);
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void DoublePathMatchesPyTorch(string name)
    {
        LossReferenceCase item = LossReferenceCase.Get(name);
        var loss = (IDoublePrecisionLoss)item.CreateLoss();

        FiniteDifferences.Evaluation result = FiniteDifferences.Evaluate(loss, item.Embeddings, item.Labels, Copy(item.Parameters));

        Assert.Equal(item.LossValue, result.Value, DoubleTolerance);
        AssertClose("embedding gradient", item.EmbeddingGradient, result.EmbeddingGradient, DoubleTolerance);
        for (int p = 0; p < item.ParameterGradients.Length; p++)
        {
            AssertClose($"parameter {p}", item.ParameterGradients[p], result.ParameterGradients[p], DoubleTolerance);
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void GradientsMatchFiniteDifferences(string name)
    {
        LossReferenceCase item = LossReferenceCase.Get(name);
        var loss = (IDoublePrecisionLoss)item.CreateLoss();
        double[] embeddings = (double[])item.Embeddings.Clone();
        double[][] parameters = Copy(item.Parameters);
        FiniteDifferences.Evaluation analytic = FiniteDifferences.Evaluate(loss, embeddings, item.Labels, parameters);

        List<FiniteDifferences.Mismatch> mismatches = FiniteDifferences.Check(loss, embeddings, item.Labels, parameters, analytic);

        Assert.True(mismatches.Count == 0, string.Join("; ", mismatches));
    }

    [Fact]
    public void FiniteDifferencesCatchWrongGradient()
    {
        LossReferenceCase item = LossReferenceCase.Get("arcface");
        var loss = (IDoublePrecisionLoss)item.CreateLoss();
        double[] embeddings = (double[])item.Embeddings.Clone();
        double[][] parameters = Copy(item.Parameters);
        FiniteDifferences.Evaluation analytic = FiniteDifferences.Evaluate(loss, embeddings, item.Labels, parameters);
        analytic.EmbeddingGradient[3] += 1e-4;
        analytic.ParameterGradients[0][5] -= 1e-4;

        List<FiniteDifferences.Mismatch> mismatches = FiniteDifferences.Check(loss, embeddings, item.Labels, parameters, analytic);

        Assert.Equal(2, mismatches.Count);
    }

    [Fact]
    public void CenterUpdateMatchesPyTorch()
    {
        foreach (string name in new[] { "center-all-classes", "center-absent-class" })
        {
            LossReferenceCase item = LossReferenceCase.Get(name);
            var loss = (CenterLoss)item.CreateLoss();
            loss.Compute(LossReferenceCase.ToFloats(item.Embeddings), item.Labels, new float[item.Embeddings.Length]);

            loss.OnStepCompleted(1);

            AssertClose(name + " centers", item.UpdatedCenters!, Array.ConvertAll(loss.Centers.ToArray(), value => (double)value), 1e-6);
        }
    }

    [Fact]
    public void SphereFaceLambdaMatchesPyTorch()
    {
        foreach (LossReferenceCase item in LossReferenceCase.LoadAll().Where(item => item.Loss == "sphereface"))
        {
            var loss = (SphereFaceLoss)item.CreateLoss();

            Assert.Equal(item.Lambda!.Value, loss.Lambda, 1e-12);
        }
    }

    private static double[][] Copy(double[][] arrays) => arrays.Select(array => (double[])array.Clone()).ToArray();

    private static void AssertClose(string label, double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{label}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }
}
