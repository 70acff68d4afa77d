using System.CommandLine;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRetrieval.IO;
using MLNetRetrieval.MetricLearning;

namespace MLNetRetrieval.Cli;

/// <summary>
/// A preprocessing model zip given with <c>--transform</c>, such as the learned embedding that
/// <c>train-metric</c> writes: a model that maps the Features column to new vectors in place.
/// </summary>
internal sealed class TransformModelFile
{
    private TransformModelFile(string path, ITransformer model, IReadOnlyList<EmbeddingHead> heads)
    {
        Path = path;
        Model = model;
        Heads = heads;
    }

    public string Path { get; }

    /// <summary>The loaded ML.NET model.</summary>
    public ITransformer Model { get; }

    /// <summary>The learned embedding heads inside the model, in pipeline order; at least one.</summary>
    public IReadOnlyList<EmbeddingHead> Heads { get; }

    /// <summary>Length of the vectors the model takes.</summary>
    public int InputDimension => Heads[0].InputDimension;

    /// <summary>Length of the vectors the model returns.</summary>
    public int OutputDimension => Heads[^1].OutputDimension;

    /// <summary>Creates the --transform option of the index, search and evaluate commands.</summary>
    public static Option<string?> CreateOption(string effect) => new("--transform")
    {
        Description = $"Model zip written by train-metric: its learned embedding maps every vector before {effect}.",
        HelpName = "FILE",
    };

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an ML.NET model zip or contains no learned embedding.</exception>
    public static TransformModelFile Load(MLContext context, string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Transform model not found: {path}. Check the path; train-metric writes it with --output.", path);

        ITransformer model;
        IReadOnlyList<EmbeddingHead> heads;
        try
        {
            model = context.Model.Load(path, out _);
            heads = context.Retrieval().GetEmbeddingHeads(model);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: cannot load the file as a learned-embedding model zip. {ExceptionText.Sentence(ExceptionText.Describe(e))} Pass a zip written by train-metric.", e);
        }

        if (heads.Count == 0)
            throw new InvalidDataException($"{path}: the model contains no learned embedding. Pass a zip written by train-metric to --transform.");
        if (context.Retrieval().GetSearchers(model).Count > 0)
            throw new InvalidDataException($"{path}: the model contains a neighbor search, so it is an index, not a preprocessing model. Pass a zip written by train-metric to --transform.");
        return new TransformModelFile(path, model, heads);
    }

    /// <exception cref="InvalidDataException">The vectors have another dimension than the model takes.</exception>
    public void CheckInput(VectorSet vectors, string vectorsPath)
    {
        if (vectors.Dimension != InputDimension)
            throw new InvalidDataException($"{vectorsPath}: the vectors have dimension {vectors.Dimension}, but the learned embedding in {Path} takes vectors of dimension {InputDimension}. Pass vectors like those it was trained on.");
    }

    /// <summary>Maps every vector through the model and returns the new vectors with the same ids and labels.</summary>
    /// <exception cref="InvalidDataException">The vectors have another dimension than the model takes.</exception>
    public VectorSet Apply(MLContext context, VectorSet vectors, string vectorsPath, CancellationToken cancellationToken)
    {
        CheckInput(vectors, vectorsPath);
        IDataView mapped = Model.Transform(VectorViews.Create(context, vectors));
        DataViewSchema.Column column = mapped.Schema[VectorViews.FeatureColumn];
        int d = OutputDimension;
        var values = new float[checked(vectors.Count * d)];
        using (DataViewRowCursor cursor = mapped.GetRowCursor(new[] { column }))
        {
            ValueGetter<VBuffer<float>> getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> vector = default;
            int row = 0;
            while (cursor.MoveNext())
            {
                if ((row & 1023) == 0)
                    cancellationToken.ThrowIfCancellationRequested();
                getter(ref vector);
                vector.CopyTo(values, row * d);
                row++;
            }
        }

        return new VectorSet(values, vectors.Count, d, vectors.Ids, vectors.Labels, vectors.Source);
    }
}
