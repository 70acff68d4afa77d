using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNetRetrieval.Images.Transforms;

/// <summary>Image embedding entry points on the retrieval catalog, <c>mlContext.Retrieval()</c>.</summary>
public static class ImageRetrievalCatalog
{
    /// <summary>
    /// Creates an estimator that embeds images with an ONNX model (ResNet18 by default) into a known-size
    /// vector of Single, plus a text column <c>&lt;outputColumnName&gt;Failure</c> that gives the reason
    /// when an image could not be read; that row's vector is all NaN.
    /// </summary>
    /// <param name="catalog">The retrieval catalog.</param>
    /// <param name="outputColumnName">Added embedding column.</param>
    /// <param name="inputColumnName">Image column: Text (a file path) or a vector of Byte (an encoded image file).</param>
    /// <param name="options">Model, preprocessing and threading settings; null for ResNet18 with its own preprocessing.</param>
    /// <example><code>
    /// var pipeline = ml.Retrieval().EmbedImages("Embedding", "ImagePath")
    ///     .Append(ml.Transforms.NormalizeLpNorm("Embedding"))
    ///     .Append(ml.Retrieval().IndexExact("Embedding", numberOfNeighbors: 10));
    /// </code></example>
    public static ImageEmbeddingEstimator EmbedImages(this RetrievalCatalog catalog, string outputColumnName,
        string inputColumnName, ImageEmbedderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.EmbedImages(new ImageEmbeddingEstimator.Options
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            EmbedderOptions = options,
        });
    }

    /// <summary>Creates an image embedding estimator with every setting.</summary>
    /// <param name="catalog">The retrieval catalog.</param>
    /// <param name="options">Columns and embedder settings.</param>
    public static ImageEmbeddingEstimator EmbedImages(this RetrievalCatalog catalog, ImageEmbeddingEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ImageEmbeddingEstimator(catalog.Context, options);
    }

    /// <summary>
    /// Finds the first image embedding step in a model, including one loaded from a zip, where it is a
    /// chain of standard transformers. Returns null when the model has none.
    /// </summary>
    /// <remarks>
    /// In a loaded model the embedding state sits in a value-mapping transformer. This method applies each
    /// value mapping to a one-row view with the state key and rebuilds the embedder from the first state
    /// it finds. Within one process the returned embedder is the one the loaded model scores with, so do
    /// not dispose it while the model is in use. The embedder runs on the CPU: session settings such as a
    /// GPU provider are not saved in the zip.
    /// </remarks>
    /// <param name="catalog">The retrieval catalog.</param>
    /// <param name="model">A fitted pipeline or a model from <see cref="ModelOperationsCatalog.Load(string, out DataViewSchema)"/>.</param>
    public static ImageEmbedder? GetImageEmbedder(this RetrievalCatalog catalog, ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        return Find(catalog.Context, model) switch
        {
            ImageEmbeddingTransformer embedding => embedding.Embedder,
            ReadOnlyMemory<char>[] chunks => ImageEmbedderCache.GetOrCreate(chunks).Embedder,
            _ => null,
        };
    }

    /// <summary>Returns the stored state chunks of the first embedding step of a loaded model, or null.</summary>
    internal static ReadOnlyMemory<char>[]? FindStateChunks(MLContext context, ITransformer model) =>
        Find(context, model) as ReadOnlyMemory<char>[];

    /// <summary>Returns the first fitted <see cref="ImageEmbeddingTransformer"/> or stored state chunks, or null.</summary>
    private static object? Find(MLContext context, ITransformer model)
    {
        switch (model)
        {
            case ImageEmbeddingTransformer embedding:
                return embedding;
            case IEnumerable<ITransformer> chain:
                foreach (ITransformer inner in chain)
                {
                    if (Find(context, inner) is { } found)
                        return found;
                }

                return null;
            case ValueMappingTransformer valueMapping:
                return TryReadChunks(context, valueMapping);
            default:
                return null;
        }
    }

    private static ReadOnlyMemory<char>[]? TryReadChunks(MLContext context, ValueMappingTransformer valueMapping)
    {
        IDataView keyView = context.Data.LoadFromEnumerable(new[] { new ImageModelKeyOutput { Key = ImageEmbeddingColumns.ModelKeyValue.AsMemory() } });
        DataViewSchema output;
        try
        {
            output = valueMapping.GetOutputSchema(keyView.Schema);
        }
        catch (ArgumentOutOfRangeException)
        {
            // A value mapping of some other column: not an image embedding state.
            return null;
        }

        if (output.GetColumnOrNull(ImageEmbeddingColumns.Model) is not { } stateColumn
            || stateColumn.Type is not VectorDataViewType { ItemType: TextDataViewType })
            return null;

        IDataView mapped = valueMapping.Transform(keyView);
        using DataViewRowCursor cursor = mapped.GetRowCursor(new[] { mapped.Schema[ImageEmbeddingColumns.Model] });
        VBuffer<ReadOnlyMemory<char>> chunks = default;
        cursor.MoveNext();
        cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(mapped.Schema[ImageEmbeddingColumns.Model])(ref chunks);
        ReadOnlyMemory<char>[] values = chunks.GetValues().ToArray();
        if (values.Length == 0)
            throw new InvalidDataException("The model's image embedding state column is empty. The model file is damaged or its value mapping was replaced.");
        return values;
    }
}
