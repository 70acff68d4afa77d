using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Tests.Verification;

public sealed class PairGeneratorTests
{
    // 4 classes of sizes 5, 4, 3, 2: 10 + 6 + 3 + 1 = 20 same-label pairs of 91 in all, 71 different.
    private static readonly string[] Labels =
        ["a", "b", "a", "c", "a", "b", "d", "a", "c", "b", "a", "c", "b", "d"];

    [Fact]
    public void SameSeedSamePairs()
    {
        var options = new PairSamplingOptions { SamePairCount = 15, DifferentPairCount = 40, Seed = 4 };

        Assert.Equal(PairGenerator.Generate(Labels, options), PairGenerator.Generate(Labels, options));
    }

    [Fact]
    public void OtherSeedOtherPairs()
    {
        LabeledPair[] first = PairGenerator.Generate(Labels, new PairSamplingOptions { SamePairCount = 15, DifferentPairCount = 40, Seed = 4 });
        LabeledPair[] second = PairGenerator.Generate(Labels, new PairSamplingOptions { SamePairCount = 15, DifferentPairCount = 40, Seed = 5 });

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void CountsAndLabelsAgree()
    {
        LabeledPair[] pairs = PairGenerator.Generate(Labels, new PairSamplingOptions { SamePairCount = 20, DifferentPairCount = 30, Seed = 1 });

        Assert.Equal(20, pairs.Count(p => p.IsSame));
        Assert.Equal(30, pairs.Count(p => !p.IsSame));
        Assert.All(pairs, p => Assert.Equal(p.IsSame, Labels[p.First] == Labels[p.Second]));
        Assert.All(pairs, p => Assert.True(p.First < p.Second));
    }

    [Fact]
    public void NoRepeatsWithoutReplacement()
    {
        // All 20 same-label pairs exist exactly once, so asking for 20 must return each of them.
        LabeledPair[] pairs = PairGenerator.Generate(Labels, new PairSamplingOptions { SamePairCount = 20, DifferentPairCount = 71, Seed = 2 });

        Assert.Equal(pairs.Length, pairs.Select(p => (p.First, p.Second)).Distinct().Count());
    }

    [Fact]
    public void RepeatsAllowedWithReplacement()
    {
        LabeledPair[] pairs = PairGenerator.Generate(Labels, new PairSamplingOptions { SamePairCount = 200, DifferentPairCount = 0, Seed = 2, WithReplacement = true });

        Assert.Equal(200, pairs.Length);
        Assert.True(pairs.Select(p => (p.First, p.Second)).Distinct().Count() <= 20);
    }

    [Fact]
    public void SamePairsUniformOverPairs()
    {
        // Class "a" has 10 of the 20 same-label pairs, so about half of the draws come from it.
        LabeledPair[] pairs = PairGenerator.Generate(Labels, new PairSamplingOptions { SamePairCount = 4000, DifferentPairCount = 0, Seed = 3, WithReplacement = true });
        double shareOfA = pairs.Count(p => Labels[p.First] == "a") / 4000.0;

        Assert.InRange(shareOfA, 0.46, 0.54);
    }

    [Fact]
    public void SingletonClassRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => PairGenerator.Generate(["a", "a", "b"], new PairSamplingOptions { SamePairCount = 1, DifferentPairCount = 1 }));

        Assert.Contains("'b'", error.Message);
    }

    [Fact]
    public void TooManyDistinctPairsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => PairGenerator.Generate(Labels, new PairSamplingOptions { SamePairCount = 21, DifferentPairCount = 0 }));

        Assert.Contains("20", error.Message);
    }
}
