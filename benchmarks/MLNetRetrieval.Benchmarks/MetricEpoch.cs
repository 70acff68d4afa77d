using System.Buffers.Binary;
using System.IO.Compression;
using MLNetRetrieval.MetricLearning;

namespace MLNetRetrieval.Benchmarks;

/// <summary>
/// Times training epochs of the 784 → 512 → 128 MLP on the Fashion-MNIST training images with
/// <see cref="MetricTrainer"/>, for comparison with benchmarks/metric/torch_epoch.py, which trains the same
/// network, loss and optimizer in PyTorch.
/// </summary>
internal static class MetricEpoch
{
    public static void Run(string dataFolder, int threads, int epochs)
    {
        var (pixels, count, dimension) = IdxImages.Read(Path.Combine(dataFolder, "train-images-idx3-ubyte.gz"));
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] /= 255f;
        }

        int[] labels = ReadLabels(Path.Combine(dataFolder, "train-labels-idx1-ubyte.gz"), count);
        var options = new MetricTrainerOptions
        {
            HiddenLayers = [512],
            EmbeddingDimension = 128,
            Epochs = epochs,
            BatchSize = 256,
            Optimizer = OptimizerKind.Sgd,
            LearningRate = 0.05f,
            Momentum = 0.9f,
            WeightDecay = 5e-4f,
            Schedule = LearningRateScheduleKind.Constant,
            ValidationFraction = 0,
            Threads = threads,
            Seed = 1,
        };
        Console.WriteLine($"ours threads {threads}, rows {count}, batch {options.BatchSize}");
        var progress = new SynchronousProgress(p =>
            Console.WriteLine($"ours epoch {p.Epoch}: {p.Elapsed.TotalSeconds:F3} s, mean loss {p.TrainingLoss:F4}"));
        MetricTrainer.Train(pixels, dimension, labels, new SoftmaxClassifierLoss(), options, progress);
    }

    private static int[] ReadLabels(string path, int expectedCount)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        byte[] data = buffer.ToArray();
        uint magic = data.Length >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(data) : 0;
        if (magic != 0x00000801 || BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(4)) != expectedCount || data.Length != 8 + expectedCount)
        {
            throw new InvalidDataException($"{path}: expected an IDX label file (magic 0x00000801) with {expectedCount} labels.");
        }

        return data.AsSpan(8).ToArray().Select(b => (int)b).ToArray();
    }

    /// <summary>Calls the handler on the training thread, unlike <see cref="Progress{T}"/>, so lines print in order.</summary>
    private sealed class SynchronousProgress(Action<MetricEpochProgress> handler) : IProgress<MetricEpochProgress>
    {
        public void Report(MetricEpochProgress value) => handler(value);
    }
}

/// <summary>
/// Softmax cross-entropy over a bias-free linear classifier W (classes × e): logits = x·Wᵀ, loss = mean of
/// −log softmax(logits)[y]. The same loss as torch_epoch.py, kept here so the benchmark needs no library loss.
/// </summary>
internal sealed class SoftmaxClassifierLoss : MetricLoss
{
    private TrainableParameter? _weight;
    private int _classes;
    private int _dimension;

    public override IReadOnlyList<TrainableParameter> Parameters => _weight is null ? [] : [_weight];

    public override void Initialize(int embeddingDimension, int classCount, Random random)
    {
        _dimension = embeddingDimension;
        _classes = classCount;
        _weight = new TrainableParameter("classifier.weight", classCount, embeddingDimension);

        // PyTorch's nn.Linear default: uniform on ±1/√fanIn.
        double bound = 1.0 / Math.Sqrt(embeddingDimension);
        for (int i = 0; i < _weight.Values.Length; i++)
        {
            _weight.Values[i] = (float)(((2 * random.NextDouble()) - 1) * bound);
        }
    }

    public override float Compute(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> labels, Span<float> embeddingGradient)
    {
        TrainableParameter weight = _weight ?? throw new InvalidOperationException("Initialize was not called.");
        int rows = labels.Length;
        int e = _dimension;
        var probabilities = new float[_classes];
        double total = 0;
        embeddingGradient.Clear();
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> x = embeddings.Slice(r * e, e);
            float max = float.NegativeInfinity;
            for (int c = 0; c < _classes; c++)
            {
                probabilities[c] = System.Numerics.Tensors.TensorPrimitives.Dot(x, weight.Values.AsSpan(c * e, e));
                max = MathF.Max(max, probabilities[c]);
            }

            double sum = 0;
            for (int c = 0; c < _classes; c++)
            {
                sum += Math.Exp(probabilities[c] - max);
            }

            total += Math.Log(sum) + max - probabilities[labels[r]];
            Span<float> dx = embeddingGradient.Slice(r * e, e);
            for (int c = 0; c < _classes; c++)
            {
                // d loss / d logit = (softmax − one-hot) / rows.
                float g = (float)((Math.Exp(probabilities[c] - max) / sum) - (c == labels[r] ? 1 : 0)) / rows;
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(weight.Values.AsSpan(c * e, e), g, dx, dx);
                Span<float> dw = weight.Gradient.AsSpan(c * e, e);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(x, g, dw, dw);
            }
        }

        return (float)(total / rows);
    }
}
