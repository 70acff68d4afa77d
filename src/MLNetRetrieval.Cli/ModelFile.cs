using Microsoft.ML;
using Microsoft.ML.Transforms;
using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Cli;

/// <summary>A model zip loaded with ML.NET, with the one neighbor search inside it.</summary>
internal sealed class ModelFile
{
    private ModelFile(string path, ITransformer model, NeighborSearcher searcher, bool searchIsFirst, IReadOnlyList<EmbeddingHead> heads)
    {
        Path = path;
        Model = model;
        Searcher = searcher;
        SearchIsFirstTransform = searchIsFirst;
        EmbeddingHeads = heads;
    }

    public string Path { get; }

    public ITransformer Model { get; }

    public NeighborSearcher Searcher { get; }

    /// <summary>
    /// Whether the model is the search alone, with no transform before it (such as NormalizeLpNorm),
    /// so raw query vectors can go straight to <see cref="NeighborSearcher.Search(ReadOnlySpan{float}, ReadOnlySpan{long}, Span{long}, Span{float}, NeighborSearchSettings?, int, CancellationToken)"/>.
    /// </summary>
    public bool SearchIsFirstTransform { get; }

    /// <summary>The learned embedding heads that the model applies before the search (index --transform), in pipeline order.</summary>
    public IReadOnlyList<EmbeddingHead> EmbeddingHeads { get; }

    /// <summary>Length of the query vectors the model takes: the first head's input length, else the index dimension.</summary>
    public int QueryDimension => EmbeddingHeads.Count > 0 ? EmbeddingHeads[0].InputDimension : Searcher.Dimension;

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an ML.NET model zip, or contains no neighbor search or more than one.</exception>
    public static ModelFile Load(MLContext context, string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Model file not found: {path}. Check the path; the index command writes it with --output.", path);

        ITransformer model;
        try
        {
            model = context.Model.Load(path, out _);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: cannot load the file as an ML.NET model zip. {ExceptionText.Sentence(ExceptionText.Describe(e))} Pass a zip written by the index command.", e);
        }

        // GetSearchers decodes the index state stored in the zip, so damage inside that state surfaces here.
        IReadOnlyList<NeighborSearcher> searchers;
        IReadOnlyList<EmbeddingHead> heads;
        try
        {
            searchers = context.Retrieval().GetSearchers(model);
            heads = context.Retrieval().GetEmbeddingHeads(model);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: {ExceptionText.Describe(e)}", e);
        }

        if (searchers.Count != 1)
            throw new InvalidDataException($"{path}: the model contains {searchers.Count} neighbor searches, but the CLI needs exactly one. Pass a zip written by the index command.");
        // A learned embedding's chain starts with the same kinds of transforms as the search's, so heads are ruled out first.
        return new ModelFile(path, model, searchers[0], heads.Count == 0 && StartsWithSearch(model), heads);
    }

    /// <summary>
    /// Checks that the first leaf transforms of a loaded model are the search chain's own prefix: a
    /// column copy of the query vector, an optional id conversion, then the custom mapping and the
    /// value mapping that hold the index. Any other transform first (NormalizeLpNorm, a user's
    /// conversion) changes the vectors, so the batch path would skip it.
    /// </summary>
    private static bool StartsWithSearch(ITransformer model)
    {
        var leaves = new List<ITransformer>();
        Flatten(model, leaves);
        int valueMapping = leaves.FindIndex(t => t is ValueMappingTransformer);
        if (valueMapping is not (2 or 3))
            return false;
        if (leaves[0] is not ColumnCopyingTransformer)
            return false;
        if (valueMapping == 3 && leaves[1] is not TypeConvertingTransformer)
            return false;
        return IsCustomMapping(leaves[valueMapping - 1]);
    }

    private static bool IsCustomMapping(ITransformer transformer)
    {
        Type type = transformer.GetType();
        return type.IsGenericType && type.GetGenericTypeDefinition() == typeof(CustomMappingTransformer<,>);
    }

    private static void Flatten(ITransformer model, List<ITransformer> leaves)
    {
        if (model is IEnumerable<ITransformer> chain)
        {
            foreach (ITransformer inner in chain)
                Flatten(inner, leaves);
        }
        else
        {
            leaves.Add(model);
        }
    }

    internal static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
