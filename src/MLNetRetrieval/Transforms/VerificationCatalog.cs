using Microsoft.ML;
using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Transforms;

/// <summary>Verification entry points on the <see cref="RetrievalCatalog"/>.</summary>
public static class VerificationCatalog
{
    /// <summary>Creates an estimator that scores pairs of embeddings in two vector columns.</summary>
    /// <param name="catalog">The retrieval catalog, from <c>mlContext.Retrieval()</c>.</param>
    /// <param name="firstColumnName">Column with the first embedding (vector of Single).</param>
    /// <param name="secondColumnName">Column with the second embedding (vector of Single, same length).</param>
    /// <param name="kind">The similarity; higher is more similar.</param>
    /// <param name="threshold">Optional decision threshold; when set, adds IsMatch = (Score ≥ threshold).</param>
    /// <example><code>
    /// var scoring = ml.Retrieval().ScorePairs("Probe", "Reference", PairScoreKind.Cosine, threshold: 0.8f);
    /// IDataView scored = scoring.Fit(pairs).Transform(pairs);   // adds Score and IsMatch
    /// </code></example>
    public static VerificationScoringEstimator ScorePairs(this RetrievalCatalog catalog, string firstColumnName, string secondColumnName,
        PairScoreKind kind = PairScoreKind.Cosine, float? threshold = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.ScorePairs(new VerificationScoringEstimator.Options
        {
            FirstColumnName = firstColumnName,
            SecondColumnName = secondColumnName,
            Kind = kind,
            Threshold = threshold,
        });
    }

    /// <summary>Creates a pair-scoring estimator with every setting.</summary>
    /// <param name="catalog">The retrieval catalog, from <c>mlContext.Retrieval()</c>.</param>
    /// <param name="options">Columns, similarity and threshold.</param>
    public static VerificationScoringEstimator ScorePairs(this RetrievalCatalog catalog, VerificationScoringEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new VerificationScoringEstimator(catalog.Context, options);
    }

    /// <summary>Enrols the rows of a data view in an identification gallery searched by cosine similarity.</summary>
    /// <param name="catalog">The retrieval catalog, from <c>mlContext.Retrieval()</c>.</param>
    /// <param name="data">The gallery images.</param>
    /// <param name="featureColumnName">Embedding column (vector of Single).</param>
    /// <param name="identityColumnName">Identity column (text, number, Boolean or key).</param>
    /// <param name="template">How an identity's images form its similarity.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="ArgumentException">An embedding is zero or not finite.</exception>
    public static IdentificationGallery CreateGallery(this RetrievalCatalog catalog, IDataView data, string featureColumnName, string identityColumnName,
        GalleryTemplate template = GalleryTemplate.MeanEmbedding)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(data);
        CollectionData rows = CollectionReader.Read(data, new NeighborSearchOptions { FeatureColumnName = featureColumnName, LabelColumnName = identityColumnName });
        return new IdentificationGallery(rows.Vectors, rows.Dimension, rows.Labels!, template);
    }
}
