using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Losses;

namespace MLNetRetrieval.Tests.MetricLearning.Losses;

/// <summary>Argument checks of the loss constructors and of Initialize and Compute.</summary>
public sealed class LossValidationTests
{
    public static TheoryData<string, Func<MetricLoss>> InvalidSettings() => new()
    {
        { "margin", () => new ContrastiveLoss(margin: 0) },
        { "margin", () => new ContrastiveLoss(margin: double.NaN) },
        { "margin", () => new TripletLoss(margin: -0.1) },
        { "mining", () => new TripletLoss((TripletMining)7) },
        { "centerWeight", () => new CenterLoss(centerWeight: -1) },
        { "centerRate", () => new CenterLoss(centerRate: 1.5) },
        { "scale", () => new NormalizedSoftmaxLoss(scale: 0) },
        { "scale", () => new CosFaceLoss(scale: double.PositiveInfinity) },
        { "margin", () => new CosFaceLoss(margin: 1.5) },
        { "margin", () => new ArcFaceLoss(margin: 2) },
        { "scale", () => new ArcFaceLoss(scale: -64) },
        { "margin", () => new SphereFaceLoss(margin: 0) },
        { "margin", () => new SphereFaceLoss(margin: 11) },
        { "lambdaMin", () => new SphereFaceLoss(lambdaMin: -1) },
        { "lambdaGamma", () => new SphereFaceLoss(lambdaGamma: double.NaN) },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void InvalidSettingIsRejected(string parameter, Func<MetricLoss> create)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => create());

        Assert.Equal(parameter, error.ParamName);
    }

    [Fact]
    public void RejectionMessageNamesValueAndRange()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ArcFaceLoss(margin: 2));

        Assert.Contains("margin is 2", error.Message);
        Assert.Contains("[0, 1.5]", error.Message);
    }

    [Fact]
    public void ComputeBeforeInitializeFails()
    {
        var loss = new CosFaceLoss();

        var error = Assert.Throws<InvalidOperationException>(() => loss.Compute(new float[4], [0], new float[4]));

        Assert.Contains("Initialize", error.Message);
    }

    [Fact]
    public void LabelOutsideClassesIsRejected()
    {
        var loss = new ContrastiveLoss();
        loss.Initialize(embeddingDimension: 2, classCount: 3, new Random(1));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Compute(new float[4], [0, 3], new float[4]));

        Assert.Contains("Label at row 1 is 3", error.Message);
    }

    [Fact]
    public void EmbeddingLengthMismatchIsRejected()
    {
        var loss = new TripletLoss();
        loss.Initialize(embeddingDimension: 4, classCount: 2, new Random(1));

        var error = Assert.Throws<ArgumentException>(() => loss.Compute(new float[7], [0, 1], new float[7]));

        Assert.Equal("embeddings", error.ParamName);
    }

    [Fact]
    public void GradientLengthMismatchIsRejected()
    {
        var loss = new ArcFaceLoss();
        loss.Initialize(embeddingDimension: 4, classCount: 2, new Random(1));

        var error = Assert.Throws<ArgumentException>(() => loss.Compute(new float[8], [0, 1], new float[4]));

        Assert.Equal("embeddingGradient", error.ParamName);
    }

    [Fact]
    public void InitializeRejectsZeroClasses()
    {
        var loss = new SphereFaceLoss();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Initialize(embeddingDimension: 8, classCount: 0, new Random(1)));

        Assert.Equal("classCount", error.ParamName);
    }

    [Fact]
    public void InitializeIsSeeded()
    {
        var first = new CenterLoss();
        var second = new CenterLoss();

        first.Initialize(embeddingDimension: 8, classCount: 4, new Random(9));
        second.Initialize(embeddingDimension: 8, classCount: 4, new Random(9));

        Assert.Equal(first.Parameters[0].Values, second.Parameters[0].Values);
        Assert.Equal(first.Parameters[1].Values, second.Parameters[1].Values);
    }

    [Fact]
    public void ParameterShapesFollowClassesAndDimension()
    {
        var linear = new NormalizedSoftmaxLoss(normalize: false);
        linear.Initialize(embeddingDimension: 6, classCount: 5, new Random(1));

        Assert.Equal(["loss.classWeight", "loss.classBias"], linear.Parameters.Select(parameter => parameter.Name));
        Assert.Equal((5, 6), (linear.Parameters[0].Rows, linear.Parameters[0].Columns));
        Assert.Equal((5, 1), (linear.Parameters[1].Rows, linear.Parameters[1].Columns));
        Assert.False(linear.Parameters[1].ApplyWeightDecay);
    }

    [Fact]
    public void LossFlagsMatchTheirForms()
    {
        Assert.True(new ArcFaceLoss().RequiresNormalizedEmbeddings);
        Assert.True(new CosFaceLoss().RequiresNormalizedEmbeddings);
        Assert.False(new SphereFaceLoss().RequiresNormalizedEmbeddings);
        Assert.False(new CenterLoss().RequiresNormalizedEmbeddings);
        Assert.False(new NormalizedSoftmaxLoss(normalize: false).RequiresNormalizedEmbeddings);
        Assert.True(new TripletLoss().PrefersClassBalancedBatches);
        Assert.True(new ContrastiveLoss().PrefersClassBalancedBatches);
        Assert.False(new ArcFaceLoss().PrefersClassBalancedBatches);
    }
}
