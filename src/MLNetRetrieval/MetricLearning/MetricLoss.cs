namespace MLNetRetrieval.MetricLearning;

/// <summary>
/// A metric-learning loss over one batch of embeddings and their integer class labels.
/// The trainer calls <see cref="Initialize"/> once, then for each batch <see cref="Compute"/>,
/// the optimizer step on the head's and the loss's <see cref="Parameters"/>, and <see cref="OnStepCompleted"/>.
/// </summary>
public abstract class MetricLoss
{
    /// <summary>Whether the embeddings this loss receives must have unit L2 norm (angular losses).</summary>
    public virtual bool RequiresNormalizedEmbeddings => false;

    /// <summary>Whether batches should be drawn P classes by K items (pair and triplet losses) rather than shuffled.</summary>
    public virtual bool PrefersClassBalancedBatches => false;

    /// <summary>The loss's own trainable weights, such as class weights of a softmax-style loss; empty for pair losses.</summary>
    public virtual IReadOnlyList<TrainableParameter> Parameters => Array.Empty<TrainableParameter>();

    /// <summary>Sets the sizes and creates the loss's own weights.</summary>
    /// <param name="embeddingDimension">Length of one embedding.</param>
    /// <param name="classCount">Number of classes; labels are in [0, classCount).</param>
    /// <param name="random">Seeded source for initial weights.</param>
    public abstract void Initialize(int embeddingDimension, int classCount, Random random);

    /// <summary>
    /// Computes the mean loss over the batch, overwrites <paramref name="embeddingGradient"/> with
    /// d loss / d embeddings, and adds the gradients of <see cref="Parameters"/> into their buffers.
    /// </summary>
    /// <param name="embeddings">Batch of embeddings, row-major, count by dimension.</param>
    /// <param name="labels">Class label of each row.</param>
    /// <param name="embeddingGradient">Output, same shape as <paramref name="embeddings"/>.</param>
    /// <returns>The loss value, finite; 0 when the batch gives nothing to learn from.</returns>
    public abstract float Compute(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> labels, Span<float> embeddingGradient);

    /// <summary>Called after each optimizer step, for state outside gradient descent (centre updates, margin annealing).</summary>
    /// <param name="step">Number of steps done so far, starting at 1.</param>
    public virtual void OnStepCompleted(long step)
    {
    }
}
