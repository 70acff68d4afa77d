using MLNetRetrieval.MetricLearning.Losses;

namespace MLNetRetrieval.Tests.MetricLearning.Losses;

/// <summary>The sorted-negative miners of <see cref="TripletLoss"/> against a direct loop over every triplet.</summary>
public sealed class TripletMiningTests
{
    private const double Tolerance = 1e-10;

    [Theory]
    [InlineData(TripletMining.BatchAll, 0.5)]
    [InlineData(TripletMining.BatchAll, 3.0)]
    [InlineData(TripletMining.SemiHard, 0.5)]
    [InlineData(TripletMining.SemiHard, 3.0)]
    [InlineData(TripletMining.BatchHard, 0.5)]
    public void MinersMatchDirectLoop(TripletMining mining, double margin)
    {
        // 6 classes of uneven size, so anchors differ in their numbers of positives and negatives.
        const int dimension = 5;
        int[] labels = Enumerable.Range(0, 48).Select(row => (row * 7 % 11) % 6).ToArray();
        double[] x = Array.ConvertAll(LossEdgeCaseTests.RandomMatrix(labels.Length, dimension, seed: 41), value => (double)value);
        var loss = new TripletLoss(mining, margin);
        loss.Initialize(dimension, classCount: 6, new Random(1));

        FiniteDifferences.Evaluation actual = FiniteDifferences.Evaluate(loss, x, labels, []);
        (double expectedValue, double[] expectedGradient) = DirectLoop(x, labels, dimension, mining, margin);

        Assert.True(expectedValue > 0, "the reference loss is zero, so the comparison would prove little");
        Assert.Equal(expectedValue, actual.Value, Tolerance);
        for (int i = 0; i < expectedGradient.Length; i++)
        {
            Assert.True(Math.Abs(expectedGradient[i] - actual.EmbeddingGradient[i]) <= Tolerance,
                $"gradient[{i}]: expected {expectedGradient[i]:R}, got {actual.EmbeddingGradient[i]:R}");
        }
    }

    /// <summary>Computes the loss and gradient by visiting every (anchor, positive, negative) triple, with direct differences for D².</summary>
    private static (double Value, double[] Gradient) DirectLoop(double[] x, int[] labels, int d, TripletMining mining, double margin)
    {
        int n = labels.Length;
        double Distance(int i, int j)
        {
            double sum = 0;
            for (int k = 0; k < d; k++)
            {
                double difference = x[(i * d) + k] - x[(j * d) + k];
                sum += difference * difference;
            }

            return sum;
        }

        var triplets = new List<(int A, int P, int N)>();
        int count = 0;
        double total = 0;
        for (int a = 0; a < n; a++)
        {
            if (mining == TripletMining.BatchHard)
            {
                int hardestPositive = -1;
                int hardestNegative = -1;
                for (int j = 0; j < n; j++)
                {
                    if (j != a && labels[j] == labels[a] && (hardestPositive < 0 || Distance(a, j) > Distance(a, hardestPositive)))
                    {
                        hardestPositive = j;
                    }

                    if (labels[j] != labels[a] && (hardestNegative < 0 || Distance(a, j) < Distance(a, hardestNegative)))
                    {
                        hardestNegative = j;
                    }
                }

                if (hardestPositive >= 0 && hardestNegative >= 0)
                {
                    count++;
                    double term = Distance(a, hardestPositive) - Distance(a, hardestNegative) + margin;
                    if (term > 0)
                    {
                        total += term;
                        triplets.Add((a, hardestPositive, hardestNegative));
                    }
                }

                continue;
            }

            for (int p = 0; p < n; p++)
            {
                if (p == a || labels[p] != labels[a])
                {
                    continue;
                }

                int semiHard = -1;
                for (int q = 0; q < n; q++)
                {
                    if (labels[q] == labels[a])
                    {
                        continue;
                    }

                    double term = Distance(a, p) - Distance(a, q) + margin;
                    if (mining == TripletMining.BatchAll && term > 0)
                    {
                        count++;
                        total += term;
                        triplets.Add((a, p, q));
                    }

                    bool inBand = Distance(a, q) > Distance(a, p) && term > 0;
                    if (mining == TripletMining.SemiHard && inBand && (semiHard < 0 || Distance(a, q) < Distance(a, semiHard)))
                    {
                        semiHard = q;
                    }
                }

                if (semiHard >= 0)
                {
                    count++;
                    total += Distance(a, p) - Distance(a, semiHard) + margin;
                    triplets.Add((a, p, semiHard));
                }
            }
        }

        var gradient = new double[x.Length];
        if (count == 0)
        {
            return (0, gradient);
        }

        // d/dx of D²(a,p) − D²(a,n): 2(x_n − x_p) at a, 2(x_p − x_a) at p, 2(x_a − x_n) at n.
        foreach ((int a, int p, int q) in triplets)
        {
            for (int k = 0; k < d; k++)
            {
                double xa = x[(a * d) + k];
                double xp = x[(p * d) + k];
                double xq = x[(q * d) + k];
                gradient[(a * d) + k] += 2 * (xq - xp) / count;
                gradient[(p * d) + k] += 2 * (xp - xa) / count;
                gradient[(q * d) + k] += 2 * (xa - xq) / count;
            }
        }

        return (total / count, gradient);
    }
}
