namespace MLNetRetrieval.MetricLearning.Losses;

/// <summary>
/// A loss that also evaluates in double precision, on parameter values passed in place of its own.
/// Finite-difference gradient checks run on this path, because single precision cannot resolve the
/// small steps they need; it shares every line of math with <see cref="MetricLoss.Compute"/>.
/// </summary>
internal interface IDoublePrecisionLoss
{
    /// <summary>Computes the loss and its gradients in double precision.</summary>
    /// <param name="embeddings">Batch of embeddings, row-major, count by dimension.</param>
    /// <param name="labels">Class label of each row.</param>
    /// <param name="parameterValues">Values of each <see cref="MetricLoss.Parameters"/> entry, in the same order and shape.</param>
    /// <param name="embeddingGradient">Output, overwritten with d loss / d embeddings.</param>
    /// <param name="parameterGradients">Buffers shaped as <paramref name="parameterValues"/>; the gradients are added to them.</param>
    /// <returns>The loss value.</returns>
    double ComputeDouble(ReadOnlySpan<double> embeddings, ReadOnlySpan<int> labels, IReadOnlyList<double[]> parameterValues,
        Span<double> embeddingGradient, IReadOnlyList<double[]> parameterGradients);
}
