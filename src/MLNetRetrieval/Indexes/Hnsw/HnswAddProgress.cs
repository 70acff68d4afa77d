namespace MLNetRetrieval.Indexes;

/// <summary>Progress of one <see cref="HnswIndex.Add(ReadOnlySpan{float}, ReadOnlySpan{long}, int, IProgress{HnswAddProgress}?, CancellationToken)"/> call.</summary>
/// <param name="Inserted">Vectors of this call linked into the graph so far.</param>
/// <param name="Total">Vectors in this call.</param>
/// <param name="Elapsed">Time since the insertion started.</param>
public readonly record struct HnswAddProgress(int Inserted, int Total, TimeSpan Elapsed);
