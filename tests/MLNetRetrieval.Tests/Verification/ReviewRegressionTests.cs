using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Tests.Verification;

/// <summary>Cases found by review: resolution at exactly 1 / impostors, and pair counts past Int32.</summary>
public sealed class ReviewRegressionTests
{
    [Fact]
    public void TargetAtResolutionIsObserved()
    {
        // 49 impostors scored 0.01..0.49 and 3 genuine pairs at 0.9, 0.45, 0.05. A target of exactly
        // 1/49 is met by the threshold 0.49, which accepts one impostor: FAR = 1/49, not below resolution.
        float[] impostors = Enumerable.Range(1, 49).Select(i => i / 100f).ToArray();
        float[] scores = [0.9f, 0.45f, 0.05f, .. impostors];
        bool[] isSame = [true, true, true, .. impostors.Select(_ => false)];

        VerificationReport report = VerificationEvaluator.Evaluate(scores, isSame, new VerificationEvaluatorOptions { FalseAcceptRates = [1.0 / 49], FoldCount = 0 });
        TarAtFar point = report.TarAtFar[0];

        Assert.False(point.BelowResolution);
        Assert.Equal(1.0 / 49, point.FalseAcceptRate, 12);
    }

    [Fact]
    public void PairCountPastLimitIsRejected()
    {
        var options = new PairSamplingOptions { SamePairCount = int.MaxValue, DifferentPairCount = 1, WithReplacement = true };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => PairGenerator.Generate(["a", "a", "b", "b"], options));

        Assert.Contains("at most 100000000", error.Message);
    }
}
