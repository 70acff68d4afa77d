using MLNetRetrieval.MetricLearning.Losses;

namespace MLNetRetrieval.Tests.MetricLearning.Losses;

/// <summary>Central finite differences on the double-precision path of a loss.</summary>
internal static class FiniteDifferences
{
    /// <summary>Step h of (f(v + h) − f(v − h)) / 2h; its truncation error (~h²) and rounding error (~1e-16 · loss / h) stay below 1e-8 for losses up to 100.</summary>
    public const double Step = 1e-6;

    /// <summary>Absolute part of the allowed difference between analytic and numeric derivatives.</summary>
    public const double AbsoluteTolerance = 1e-7;

    /// <summary>Relative part of the allowed difference, scaled by the numeric derivative.</summary>
    public const double RelativeTolerance = 1e-5;

    /// <summary>The loss value and analytic gradients of one double-precision evaluation.</summary>
    public sealed record Evaluation(double Value, double[] EmbeddingGradient, double[][] ParameterGradients);

    /// <summary>One derivative whose analytic and numeric values disagree.</summary>
    public sealed record Mismatch(string Buffer, int Index, double Analytic, double Numeric)
    {
        public override string ToString() => $"{Buffer}[{Index}]: analytic {Analytic:R}, numeric {Numeric:R}";
    }

    public static Evaluation Evaluate(IDoublePrecisionLoss loss, double[] embeddings, int[] labels, double[][] parameters)
    {
        var embeddingGradient = new double[embeddings.Length];
        double[][] parameterGradients = parameters.Select(values => new double[values.Length]).ToArray();
        double value = loss.ComputeDouble(embeddings, labels, parameters, embeddingGradient, parameterGradients);
        return new Evaluation(value, embeddingGradient, parameterGradients);
    }

    /// <summary>
    /// Compares every entry of <paramref name="analytic"/> with a central difference in the matching input,
    /// and returns the entries outside AbsoluteTolerance + RelativeTolerance · |numeric|.
    /// </summary>
    public static List<Mismatch> Check(IDoublePrecisionLoss loss, double[] embeddings, int[] labels, double[][] parameters, Evaluation analytic)
    {
        var mismatches = new List<Mismatch>();
        CheckBuffer("embeddings", embeddings, analytic.EmbeddingGradient, loss, embeddings, labels, parameters, mismatches);
        for (int p = 0; p < parameters.Length; p++)
        {
            CheckBuffer($"parameter {p}", parameters[p], analytic.ParameterGradients[p], loss, embeddings, labels, parameters, mismatches);
        }

        return mismatches;
    }

    private static void CheckBuffer(string name, double[] buffer, double[] gradient, IDoublePrecisionLoss loss,
        double[] embeddings, int[] labels, double[][] parameters, List<Mismatch> mismatches)
    {
        for (int i = 0; i < buffer.Length; i++)
        {
            double original = buffer[i];
            buffer[i] = original + Step;
            double plus = Evaluate(loss, embeddings, labels, parameters).Value;
            buffer[i] = original - Step;
            double minus = Evaluate(loss, embeddings, labels, parameters).Value;
            buffer[i] = original;

            double numeric = (plus - minus) / (2 * Step);
            if (!(Math.Abs(gradient[i] - numeric) <= AbsoluteTolerance + (RelativeTolerance * Math.Abs(numeric))))
            {
                mismatches.Add(new Mismatch(name, i, gradient[i], numeric));
            }
        }
    }
}
