using Microsoft.ML.OnnxRuntime;
using MLNetRetrieval.Images.Preprocessing;

namespace MLNetRetrieval.Images.Onnx;

/// <summary>
/// The image input and embedding output of a loaded model, read from its metadata and checked against the
/// preprocessing.
/// </summary>
internal sealed class ModelSignature
{
    private ModelSignature(string inputName, string outputName, int fixedBatch, long[] inputShapeAfterBatch, int dimension)
    {
        InputName = inputName;
        OutputName = outputName;
        FixedBatch = fixedBatch;
        InputShapeAfterBatch = inputShapeAfterBatch;
        Dimension = dimension;
    }

    public string InputName { get; }

    public string OutputName { get; }

    /// <summary>The batch size the model requires, or 0 when its batch dimension is dynamic.</summary>
    public int FixedBatch { get; }

    /// <summary>Input dimensions after the batch: (3, H, W) for NCHW, (H, W, 3) for NHWC.</summary>
    public long[] InputShapeAfterBatch { get; }

    /// <summary>Floats per image in the output: the product of the non-batch output dimensions.</summary>
    public int Dimension { get; }

    /// <summary>Resolves names and shapes and throws when they do not fit <paramref name="preprocessing"/>.</summary>
    /// <exception cref="ArgumentException">A name is missing or a shape does not fit; the message lists names and shapes.</exception>
    public static ModelSignature Resolve(InferenceSession session, string? inputName, string? outputName, ImagePreprocessing preprocessing)
    {
        // The embedder feeds one image tensor per run, so a model that needs any other input cannot run.
        if (session.InputMetadata.Count > 1)
        {
            string inputs = string.Join(", ", session.InputMetadata.Select(n => $"'{n.Key}' {Describe(n.Value)}"));
            throw new ArgumentException(
                $"The model has {session.InputMetadata.Count} inputs ({inputs}), but the embedder feeds only one image tensor. " +
                "Use a model whose only input is the image.", nameof(ImageEmbedderOptions.ModelPath));
        }

        string input = PickName(session.InputMetadata, inputName, "input", nameof(ImageEmbedderOptions.InputName), requireSingle: true);
        string output = PickName(session.OutputMetadata, outputName, "output", nameof(ImageEmbedderOptions.OutputName), requireSingle: false);

        NodeMetadata inputMeta = session.InputMetadata[input];
        int[] dims = inputMeta.Dimensions;
        long[] expected = preprocessing.Layout == TensorLayout.Nchw
            ? [3, preprocessing.Height, preprocessing.Width]
            : [preprocessing.Height, preprocessing.Width, 3];
        bool fits = inputMeta.IsTensor && inputMeta.ElementType == typeof(float) && dims.Length == 4;
        for (int i = 0; fits && i < 3; i++)
        {
            fits = dims[i + 1] <= 0 || dims[i + 1] == expected[i];
        }

        if (!fits)
        {
            throw new ArgumentException(
                $"The model input '{input}' is {Describe(inputMeta)}, but the preprocessing writes float [batch, {string.Join(", ", expected)}] " +
                $"({preprocessing.Layout}, {preprocessing.Width}x{preprocessing.Height}). Set ImageEmbedderOptions.Preprocessing to match the model.",
                nameof(ImageEmbedderOptions.Preprocessing));
        }

        NodeMetadata outputMeta = session.OutputMetadata[output];
        int[] outDims = outputMeta.Dimensions;
        if (!outputMeta.IsTensor || outputMeta.ElementType != typeof(float) || outDims.Length < 2 || outDims.Skip(1).Any(d => d <= 0))
        {
            throw new ArgumentException(
                $"The model output '{output}' is {Describe(outputMeta)}; an embedding output must be a float tensor [batch, ...] whose " +
                "other dimensions are fixed. Choose another output with ImageEmbedderOptions.OutputName.", nameof(ImageEmbedderOptions.OutputName));
        }

        int batch = dims[0] > 0 ? dims[0] : 0;
        if (outDims[0] > 0 && batch > 0 && outDims[0] != batch)
        {
            throw new ArgumentException(
                $"The model input '{input}' has batch {batch} but the output '{output}' has batch {outDims[0]}; the embedder needs one output row per image.",
                nameof(ImageEmbedderOptions.OutputName));
        }

        int dimension = checked(outDims.Skip(1).Aggregate(1, (product, d) => product * d));
        return new ModelSignature(input, output, batch, expected, dimension);
    }

    private static string PickName(IReadOnlyDictionary<string, NodeMetadata> nodes, string? requested, string kind, string optionName, bool requireSingle)
    {
        string available = string.Join(", ", nodes.Select(n => $"'{n.Key}' {Describe(n.Value)}"));
        if (requested is not null)
        {
            return nodes.ContainsKey(requested)
                ? requested
                : throw new ArgumentException($"The model has no {kind} named '{requested}'; its {kind}s are {available}.", optionName);
        }

        if (nodes.Count == 0 || (requireSingle && nodes.Count > 1))
        {
            throw new ArgumentException($"The model has {nodes.Count} {kind}s ({available}); name the image {kind} with ImageEmbedderOptions.{optionName}.", optionName);
        }

        return nodes.Keys.First();
    }

    private static string Describe(NodeMetadata node) =>
        node.IsTensor
            ? $"{node.ElementType.Name} [{string.Join(", ", node.Dimensions.Select(d => d > 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?"))}]"
            : node.OnnxValueType.ToString();
}
