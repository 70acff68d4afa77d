using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Losses;

namespace MLNetRetrieval.Tests.MetricLearning.Losses;

/// <summary>Edge cases of the losses: empty mining results, cosines at or beyond ±1, monotone margins, centre updates.</summary>
public sealed class LossEdgeCaseTests
{
    [Theory]
    [InlineData(TripletMining.BatchAll)]
    [InlineData(TripletMining.BatchHard)]
    [InlineData(TripletMining.SemiHard)]
    public void TripletSingleClassBatchIsZero(TripletMining mining)
    {
        var loss = new TripletLoss(mining);
        loss.Initialize(embeddingDimension: 4, classCount: 3, new Random(1));
        float[] embeddings = RandomMatrix(rows: 6, columns: 4, seed: 2);
        float[] gradient = Enumerable.Repeat(float.NaN, embeddings.Length).ToArray();

        float value = loss.Compute(embeddings, [2, 2, 2, 2, 2, 2], gradient);

        Assert.Equal(0f, value);
        Assert.All(gradient, component => Assert.Equal(0f, component));
    }

    [Theory]
    [InlineData(TripletMining.BatchAll)]
    [InlineData(TripletMining.SemiHard)]
    public void TripletSeparatedClassesGiveZero(TripletMining mining)
    {
        var loss = new TripletLoss(mining, margin: 0.2);
        loss.Initialize(embeddingDimension: 2, classCount: 2, new Random(1));
        float[] embeddings = [0f, 0f, 0.01f, 0f, 5f, 5f, 5.01f, 5f];
        float[] gradient = Enumerable.Repeat(float.NaN, embeddings.Length).ToArray();

        float value = loss.Compute(embeddings, [0, 0, 1, 1], gradient);

        Assert.Equal(0f, value);
        Assert.All(gradient, component => Assert.Equal(0f, component));
    }

    [Fact]
    public void ArcFaceCosineAboveOneStaysFinite()
    {
        // Find a vector whose single-precision cosine with itself, computed as the loss computes it, rounds above 1.
        const int dimension = 16;
        float[] vector = FindSelfCosineAboveOne(dimension);
        var loss = new ArcFaceLoss(scale: 64, margin: 0.5);
        loss.Initialize(dimension, classCount: 2, new Random(3));
        vector.CopyTo(loss.Parameters[0].Values, 0);
        var gradient = new float[dimension];

        float value = loss.Compute(vector, [0], gradient);

        Assert.True(float.IsFinite(value), $"loss is {value}");
        Assert.All(gradient, component => Assert.True(float.IsFinite(component), $"gradient component is {component}"));
        Assert.All(loss.Parameters[0].Gradient, component => Assert.True(float.IsFinite(component), $"weight gradient component is {component}"));
    }

    [Fact]
    public void ArcFaceTargetAtClampBoundIsFinite()
    {
        var loss = new ArcFaceLoss();
        double upper = 1 - ClassifierMath.CosineClampEpsilon;

        double value = loss.TargetLogit(upper, out double derivative);

        Assert.True(double.IsFinite(value), $"value is {value}");
        Assert.True(double.IsFinite(derivative), $"derivative is {derivative}");
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.2)]
    public void ArcFaceTargetDecreasesInTheta(double margin)
    {
        var loss = new ArcFaceLoss(margin: margin);
        double previous = double.PositiveInfinity;
        for (int step = 0; step <= 2000; step++)
        {
            double theta = Math.PI * step / 2000;
            double cosine = Math.Clamp(Math.Cos(theta), -1 + ClassifierMath.CosineClampEpsilon, 1 - ClassifierMath.CosineClampEpsilon);

            double value = loss.TargetLogit(cosine, out _);

            Assert.True(value <= previous, $"phi rises at theta = {theta}: {previous} -> {value}");
            previous = value;
        }
    }

    [Fact]
    public void ArcFaceEasyMarginSkipsObtuseAngles()
    {
        var loss = new ArcFaceLoss(margin: 0.5, easyMargin: true);

        double obtuse = loss.TargetLogit(-0.3, out double obtuseSlope);
        double acute = loss.TargetLogit(0.3, out _);

        Assert.Equal(-0.3, obtuse);
        Assert.Equal(1.0, obtuseSlope);
        Assert.Equal(Math.Cos(Math.Acos(0.3) + 0.5), acute, 1e-12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(6)]
    public void SphereFacePsiDecreasesMonotonically(int m)
    {
        double previous = double.PositiveInfinity;
        for (int step = 0; step <= 3000; step++)
        {
            double theta = Math.PI * step / 3000;

            double value = SphereFaceLoss.Psi(Math.Cos(theta), m, out _);

            Assert.True(value <= previous + 1e-9, $"psi rises at theta = {theta}: {previous} -> {value}");
            previous = value;
        }

        Assert.Equal(1 - (2 * m), previous, 1e-9);
    }

    [Fact]
    public void SphereFacePsiMatchesCosineOfMultipleAngle()
    {
        double theta = 0.3;

        double value = SphereFaceLoss.Psi(Math.Cos(theta), 4, out double derivative);

        Assert.Equal(Math.Cos(4 * theta), value, 1e-12);

        // d cos(4θ) / d cos θ = 4 sin(4θ) / sin θ.
        Assert.Equal(4 * Math.Sin(4 * theta) / Math.Sin(theta), derivative, 1e-9);
    }

    [Fact]
    public void SphereFaceLambdaAnneals()
    {
        var loss = new SphereFaceLoss(lambdaBase: 1000, lambdaGamma: 0.12, lambdaPower: 1, lambdaMin: 5);
        double start = loss.Lambda;
        loss.OnStepCompleted(10);
        double early = loss.Lambda;
        loss.OnStepCompleted(1_000_000);
        double late = loss.Lambda;

        Assert.Equal(1000, start);
        Assert.Equal(1000 / 2.2, early, 1e-9);
        Assert.Equal(5, late);
    }

    [Fact]
    public void CenterLossAbsentClassKeepsCenter()
    {
        var loss = new CenterLoss(centerWeight: 0.1, centerRate: 0.5);
        loss.Initialize(embeddingDimension: 3, classCount: 3, new Random(4));
        float[] initial = RandomMatrix(rows: 3, columns: 3, seed: 5);
        loss.SetCenters(initial);
        float[] embeddings = RandomMatrix(rows: 4, columns: 3, seed: 6);
        loss.Compute(embeddings, [0, 1, 0, 1], new float[embeddings.Length]);

        loss.OnStepCompleted(1);

        Assert.Equal(initial[6..9], loss.Centers[6..9].ToArray());
        Assert.NotEqual(initial[0..3], loss.Centers[0..3].ToArray());
    }

    [Fact]
    public void CenterUpdateRunsOncePerBatch()
    {
        var loss = new CenterLoss(centerWeight: 0.1, centerRate: 0.5);
        loss.Initialize(embeddingDimension: 3, classCount: 2, new Random(4));
        float[] embeddings = RandomMatrix(rows: 4, columns: 3, seed: 7);
        loss.Compute(embeddings, [0, 1, 0, 1], new float[embeddings.Length]);
        loss.OnStepCompleted(1);
        float[] afterFirst = loss.Centers.ToArray();

        loss.OnStepCompleted(2);

        Assert.Equal(afterFirst, loss.Centers.ToArray());
    }

    [Fact]
    public void CenterUpdateMovesTowardsMean()
    {
        // One row per class, rate 1: c ← c − (c − x) / 2, halfway to the row.
        var loss = new CenterLoss(centerWeight: 0.1, centerRate: 1);
        loss.Initialize(embeddingDimension: 2, classCount: 1, new Random(4));
        loss.Compute([4f, -2f], [0], new float[2]);

        loss.OnStepCompleted(1);

        Assert.Equal([2f, -1f], loss.Centers.ToArray());
    }

    internal static float[] RandomMatrix(int rows, int columns, int seed)
    {
        var random = new Random(seed);
        var values = new float[rows * columns];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    private static float[] FindSelfCosineAboveOne(int dimension)
    {
        var random = new Random(8);
        for (int attempt = 0; attempt < 10_000; attempt++)
        {
            float[] vector = RandomMatrix(1, dimension, random.Next());
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(vector);
            float[] unit = vector.Select(value => value / norm).ToArray();
            var cosine = new float[1];
            LossMath.MultiplyTransposed<float>(unit, 1, unit, 1, dimension, cosine);
            if (cosine[0] > 1f)
            {
                return vector;
            }
        }

        throw new InvalidOperationException("No vector with a self-cosine above 1 in 10000 seeded attempts.");
    }
}
