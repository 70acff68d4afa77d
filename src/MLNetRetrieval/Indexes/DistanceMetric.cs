namespace MLNetRetrieval.Indexes;

/// <summary>
/// Distance used by an index. Every metric reports "smaller is closer" values, so results sort the same
/// way whatever the metric. Byte values are part of the saved format and must not change.
/// </summary>
public enum DistanceMetric : byte
{
    /// <summary>Squared Euclidean distance ‖x − y‖², computed as ‖x‖² + ‖y‖² − 2x·y and clamped at 0.</summary>
    SquaredEuclidean = 0,

    /// <summary>Negated inner product −x·y, so the largest inner product ranks first. Can be negative.</summary>
    InnerProduct = 1,

    /// <summary>
    /// Cosine distance 1 − x·y / (‖x‖ ‖y‖), in [0, 2] (clamped at 0). Stored vectors and queries are
    /// normalized to unit length, and zero vectors are rejected.
    /// </summary>
    Cosine = 2,
}
