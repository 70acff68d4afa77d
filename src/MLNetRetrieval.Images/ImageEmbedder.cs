using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using MLNetRetrieval.Images.Decoding;
using MLNetRetrieval.Images.Onnx;
using MLNetRetrieval.Images.Preprocessing;

namespace MLNetRetrieval.Images;

/// <summary>Progress of a batch embedding run.</summary>
/// <param name="Done">Images finished so far, embedded or failed.</param>
/// <param name="Total">Images in the run.</param>
/// <param name="Failed">Images that failed so far.</param>
public readonly record struct EmbeddingProgress(int Done, int Total, int Failed);

/// <summary>Embeddings of a list of images: one row per image that decoded, and the failures.</summary>
public sealed class EmbeddingBatchResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="dimension">Length of one embedding.</param>
    /// <param name="vectors">Row-major embeddings of the images that succeeded, in input order.</param>
    /// <param name="sourceIndices">For each row, the index of its image in the input list.</param>
    /// <param name="failures">The images that failed, in input order.</param>
    public EmbeddingBatchResult(int dimension, float[] vectors, int[] sourceIndices, IReadOnlyList<ImageFailure> failures)
    {
        Dimension = dimension;
        Vectors = vectors;
        SourceIndices = sourceIndices;
        Failures = failures;
    }

    /// <summary>Length of one embedding.</summary>
    public int Dimension { get; }

    /// <summary>Row-major embeddings, <see cref="SourceIndices"/>.Length rows.</summary>
    public float[] Vectors { get; }

    /// <summary>Input index of each row.</summary>
    public int[] SourceIndices { get; }

    /// <summary>Images that could not be embedded, with reasons.</summary>
    public IReadOnlyList<ImageFailure> Failures { get; }
}

/// <summary>
/// Embeds images with an ONNX model: decode, preprocess, infer, optionally flip-average and normalize.
/// Decoding of later images overlaps inference of earlier ones. Thread-safe for concurrent calls.
/// </summary>
/// <remarks>
/// The input and output names and shapes come from the model's metadata. A model with a dynamic batch dimension
/// runs <see cref="ImageEmbedderOptions.BatchSize"/> images per call; one with a fixed batch of 1 (the default
/// ResNet18) runs them one by one; a fixed batch above 1 is filled and padded with zeros. With flip averaging the
/// embedding is (f(x) + f(mirror(x))) / 2, and with normalization it is then divided by its L2 norm (a zero vector
/// stays zero).
/// </remarks>
public sealed partial class ImageEmbedder : IDisposable
{
    private readonly byte[] _modelBytes;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly ModelSignature _signature;
    private readonly ImageDecoderOptions _decoderOptions;
    private readonly bool _normalize;
    private readonly bool _flipAverage;
    private readonly int _batchSize;
    private volatile bool _disposed;

    /// <summary>Loads the model and checks its input and output against the options.</summary>
    /// <param name="options">Settings; null for ResNet18 with its own preprocessing.</param>
    /// <exception cref="ArgumentException">A setting is out of range, or the model's input or output does not fit the preprocessing.</exception>
    /// <exception cref="FileNotFoundException">The model file is missing.</exception>
    /// <exception cref="InvalidDataException">The model bytes are not a valid ONNX model.</exception>
    public ImageEmbedder(ImageEmbedderOptions? options = null)
    {
        options ??= new ImageEmbedderOptions();
        if (options.BatchSize < 1 || options.BatchSize > 4096)
        {
            throw new ArgumentException($"BatchSize must be in [1, 4096] but is {options.BatchSize}.", nameof(options));
        }

        if (options.Threads < 0 || options.DecodeThreads < 0)
        {
            throw new ArgumentException(
                $"Threads and DecodeThreads must be 0 (automatic) or positive but are {options.Threads} and {options.DecodeThreads}.", nameof(options));
        }

        Preprocessing = options.Preprocessing ?? DefaultImageModel.LoadResNet18Preprocessing();
        Preprocessing.Validate();
        _modelBytes = LoadModelBytes(options);
        _decoderOptions = options.Decoder ?? new ImageDecoderOptions();
        _normalize = options.Normalize;
        _flipAverage = options.FlipAverage;
        _batchSize = options.BatchSize;
        InferenceThreads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        DecodeThreads = options.DecodeThreads > 0 ? options.DecodeThreads : Math.Max(1, InferenceThreads / 4);

        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = InferenceThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };

        // Idle intra-op threads sleep instead of spinning, so they leave the cores to the decoding threads and to
        // other processes. On the shared 2-core benchmark machine this made EmbedFiles faster than ONNX Runtime
        // with its default spinning (BENCHMARKS.md); ConfigureSession can set the entry back to "1".
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        options.ConfigureSession?.Invoke(sessionOptions);
        try
        {
            _session = new InferenceSession(_modelBytes, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException(
                $"The model ({options.ModelPath ?? (options.ModelBytes is null ? DefaultImageModel.ModelPath() : "ModelBytes")}, {_modelBytes.Length} bytes) " +
                $"could not be loaded by ONNX Runtime: {e.Message}", e);
        }

        try
        {
            _signature = ModelSignature.Resolve(_session, options.InputName, options.OutputName, Preprocessing);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>Length of one embedding.</summary>
    public int Dimension => _signature.Dimension;

    /// <summary>The model bytes, for saving with a pipeline.</summary>
    public ReadOnlyMemory<byte> ModelBytes => _modelBytes;

    /// <summary>The preprocessing in use, including ResNet18's mean image when the default was taken.</summary>
    public ImagePreprocessing Preprocessing { get; }

    /// <summary>Name of the model input that receives the image tensor.</summary>
    public string InputName => _signature.InputName;

    /// <summary>Name of the model output read as the embedding.</summary>
    public string OutputName => _signature.OutputName;

    /// <summary>Threads of ONNX Runtime's intra-op pool.</summary>
    public int InferenceThreads { get; }

    /// <summary>
    /// Decoding threads of <see cref="EmbedFiles"/>. They run in addition to the intra-op pool instead of taking
    /// threads from it: for a ResNet-sized model, decoding and preprocessing cost a small fraction of inference, and
    /// inference with one thread fewer would lose more than that fraction.
    /// </summary>
    public int DecodeThreads { get; }

    /// <summary>Images the model takes per call: the fixed batch size, or <see cref="ImageEmbedderOptions.BatchSize"/> for a dynamic batch.</summary>
    public int ImagesPerRun => _signature.FixedBatch > 0 ? Math.Max(1, _signature.FixedBatch / Views) : _batchSize;

    private int Views => _flipAverage ? 2 : 1;

    /// <summary>Embeds one decoded image.</summary>
    /// <param name="image">The image.</param>
    /// <param name="destination"><see cref="Dimension"/> floats.</param>
    public void Embed(DecodedImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.Length < Dimension)
        {
            throw new ArgumentException($"The destination has {destination.Length} floats but an embedding has {Dimension}.", nameof(destination));
        }

        int tensorLength = Preprocessing.TensorLength;
        var tensors = new float[Views * tensorLength];
        using (var rgba = RgbaImage.FromRgb(image))
        {
            WriteViews(rgba, tensors);
        }

        var outputs = new float[Views * Dimension];
        Infer(tensors, Views, outputs);
        Finish(outputs, destination[..Dimension]);
    }

    /// <summary>Runs the model alone on tensors that are already preprocessed.</summary>
    /// <param name="tensors">Row-major tensors, <paramref name="count"/> * <see cref="ImagePreprocessing.TensorLength"/> floats.</param>
    /// <param name="count">Number of tensors.</param>
    /// <param name="outputs">Receives <paramref name="count"/> * <see cref="Dimension"/> floats: raw model outputs, neither flip-averaged nor normalized.</param>
    public void RunModel(float[] tensors, int count, Span<float> outputs)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count < 0 || (long)count * Preprocessing.TensorLength > tensors.Length || (long)count * Dimension > outputs.Length)
        {
            throw new ArgumentException(
                $"count {count} needs {(long)count * Preprocessing.TensorLength} input and {(long)count * Dimension} output floats, " +
                $"but {tensors.Length} and {outputs.Length} were given.", nameof(count));
        }

        Infer(tensors, count, outputs);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static byte[] LoadModelBytes(ImageEmbedderOptions options)
    {
        if (options.ModelBytes is not null)
        {
            return options.ModelBytes.Length > 0
                ? options.ModelBytes
                : throw new ArgumentException("ModelBytes is empty; give the ONNX model's bytes or set it to null.", nameof(options));
        }

        if (options.ModelPath is null)
        {
            return DefaultImageModel.ReadModelBytes();
        }

        if (!File.Exists(options.ModelPath))
        {
            throw new FileNotFoundException($"The ONNX model file '{options.ModelPath}' was not found.", options.ModelPath);
        }

        return File.ReadAllBytes(options.ModelPath);
    }

    // Writes the image's tensor, followed by its mirror's when flip averaging.
    private void WriteViews(RgbaImage image, Span<float> tensors)
    {
        int tensorLength = Preprocessing.TensorLength;
        Span<float> flipped = _flipAverage ? tensors.Slice(tensorLength, tensorLength) : Span<float>.Empty;
        Preprocessing.WriteViews(image, tensors[..tensorLength], flipped);
    }

    // Turns the raw outputs of one image's views into its embedding.
    private void Finish(ReadOnlySpan<float> viewOutputs, Span<float> embedding)
    {
        int dimension = Dimension;
        viewOutputs[..dimension].CopyTo(embedding);
        if (_flipAverage)
        {
            TensorPrimitives.Add(embedding, viewOutputs.Slice(dimension, dimension), embedding);
            TensorPrimitives.Multiply(embedding, 0.5f, embedding);
        }

        if (_normalize)
        {
            float norm = TensorPrimitives.Norm(embedding);
            if (norm > 0f)
            {
                TensorPrimitives.Divide(embedding, norm, embedding);
            }
        }
    }

    // Runs count tensors through the model in calls the batch dimension allows and copies the outputs in order.
    private void Infer(float[] tensors, int count, Span<float> outputs)
    {
        int tensorLength = Preprocessing.TensorLength;
        int dimension = Dimension;
        int perCall = _signature.FixedBatch > 0 ? _signature.FixedBatch : Math.Max(1, count);
        float[]? padded = null;
        for (int start = 0; start < count; start += perCall)
        {
            int inCall = Math.Min(perCall, count - start);
            Memory<float> input;
            if (_signature.FixedBatch > inCall)
            {
                // A fixed batch larger than the remaining tensors: pad with zeros and discard the extra rows.
                padded ??= new float[perCall * tensorLength];
                Array.Clear(padded);
                tensors.AsSpan(start * tensorLength, inCall * tensorLength).CopyTo(padded);
                input = padded;
            }
            else
            {
                input = tensors.AsMemory(start * tensorLength, inCall * tensorLength);
            }

            int rows = input.Length / tensorLength;
            long[] shape = [rows, .. _signature.InputShapeAfterBatch];
            using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input, shape);
            using var results = _session.Run(_runOptions, [_signature.InputName], [inputValue], [_signature.OutputName]);
            ReadOnlySpan<float> result = results[0].GetTensorDataAsSpan<float>();
            if (result.Length != rows * dimension)
            {
                throw new InvalidOperationException(
                    $"The model output '{_signature.OutputName}' returned {result.Length} floats for {rows} images; expected {rows * dimension}.");
            }

            result[..(inCall * dimension)].CopyTo(outputs.Slice(start * dimension, inCall * dimension));
        }
    }
}
