using Microsoft.ML;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.Transforms;

namespace MLNetRetrieval.Cli.Images;

/// <summary>
/// The two ML.NET entry points of the image embedding step that the CLI calls: fitting the step
/// (<c>ml.Retrieval().EmbedImages</c>) and finding it again in a fitted or loaded model
/// (<c>ml.Retrieval().GetImageEmbedder</c>). Every other CLI file goes through this class.
/// </summary>
internal static class ImageModelAccess
{
    /// <summary>
    /// Fits the embedding step that reads image paths from <paramref name="inputColumnName"/> (Text)
    /// and writes <paramref name="outputColumnName"/>, a known-size vector of Single.
    /// </summary>
    /// <param name="context">The ML.NET context.</param>
    /// <param name="outputColumnName">The embedding column.</param>
    /// <param name="inputColumnName">The image path column.</param>
    /// <param name="options">The embedder settings.</param>
    /// <param name="input">A view with the input column; fitting only checks its schema.</param>
    public static ITransformer FitEmbedding(MLContext context, string outputColumnName, string inputColumnName,
        ImageEmbedderOptions options, IDataView input)
    {
        return context.Retrieval().EmbedImages(outputColumnName, inputColumnName, options).Fit(input);
    }

    /// <summary>Returns the embedder of the embedding step in <paramref name="model"/>, or null when the model has none.</summary>
    /// <param name="context">The ML.NET context.</param>
    /// <param name="model">A fitted model, or a chain loaded with <c>Model.Load</c>.</param>
    public static ImageEmbedder? FindEmbedder(MLContext context, ITransformer model)
    {
        return context.Retrieval().GetImageEmbedder(model);
    }
}
