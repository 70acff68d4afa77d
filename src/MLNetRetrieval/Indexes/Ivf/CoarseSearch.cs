namespace MLNetRetrieval.Indexes;

/// <summary>How an IVF index finds the centroids nearest to a vector, when adding and when choosing the lists to probe.</summary>
public enum CoarseSearch : byte
{
    /// <summary>Compares the vector with every centroid; exact, and cost grows linearly with nlist.</summary>
    Exact = 0,

    /// <summary>
    /// Searches an HNSW graph over the centroids, as in Baranchuk, Babenko and Malkov, "Revisiting the inverted indices
    /// for billion-scale approximate nearest neighbors", ECCV 2018; approximate, and fast at nlist in the tens of thousands.
    /// </summary>
    Hnsw = 1,
}
