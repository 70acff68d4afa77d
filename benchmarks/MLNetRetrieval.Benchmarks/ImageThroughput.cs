using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.Decoding;
using MLNetRetrieval.Images.Onnx;

namespace MLNetRetrieval.Benchmarks;

/// <summary>
/// Images per second of <see cref="ImageEmbedder.EmbedFiles"/> (decode, preprocess, ResNet18) against ONNX Runtime
/// running the same model alone, on tensors preprocessed beforehand, in a session with the same thread count.
/// </summary>
internal static class ImageThroughput
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"];

    public static void Run(string folder, int count, int threads, int repeats)
    {
        // A seeded random sample of the whole folder; the first files in name order would all come from one category.
        string[] all = [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(p => Extensions.Contains(Path.GetExtension(p).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)];
        if (all.Length == 0)
        {
            throw new ArgumentException($"No image files ({string.Join(", ", Extensions)}) under '{folder}'.", nameof(folder));
        }

        new Random(42).Shuffle(all);
        string[] paths = all[..Math.Min(count, all.Length)];
        long bytes = paths.Sum(p => new FileInfo(p).Length);
        Console.WriteLine($"images {paths.Length} of {all.Length} under {folder} ({bytes / 1024} KiB), threads {threads}, repeats {repeats}");

        using var embedder = new ImageEmbedder(new ImageEmbedderOptions { Threads = threads });
        Console.WriteLine($"embedder: {embedder.InferenceThreads} ONNX Runtime threads, {embedder.DecodeThreads} decode threads, {embedder.ImagesPerRun} images per call");

        // Preprocessed tensors for the model-only baseline; decoding time is measured on the side, on one thread.
        int tensorLength = embedder.Preprocessing.TensorLength;
        var tensors = new List<float[]>(paths.Length);
        var decodeWatch = Stopwatch.StartNew();
        foreach (string path in paths)
        {
            if (ImageDecoder.TryDecode(path, null, out DecodedImage? image, out _))
            {
                var tensor = new float[tensorLength];
                embedder.Preprocessing.Write(image, tensor);
                tensors.Add(tensor);
            }
        }

        double decodeSeconds = decodeWatch.Elapsed.TotalSeconds;
        Console.WriteLine($"decode + preprocess alone, 1 thread: {paths.Length / decodeSeconds:F1} images/s ({tensors.Count} decoded)");

        // Two model-only baselines: ONNX Runtime's defaults (idle threads spin) and the embedder's setting (they sleep).
        using var spinning = new RawSession(embedder.ModelBytes.ToArray(), threads, allowSpinning: true);
        using var sleeping = new RawSession(embedder.ModelBytes.ToArray(), threads, allowSpinning: false);

        // Warm-up of every path, then alternate them so that drift in machine load hits all alike.
        embedder.EmbedFiles(paths[..Math.Min(8, paths.Length)]);
        spinning.Run(tensors.Take(2));
        sleeping.Run(tensors.Take(2));

        var endToEnd = new List<double>();
        var rawSpinning = new List<double>();
        var rawSleeping = new List<double>();
        for (int repeat = 0; repeat < repeats; repeat++)
        {
            var watch = Stopwatch.StartNew();
            EmbeddingBatchResult result = embedder.EmbedFiles(paths);
            endToEnd.Add(paths.Length / watch.Elapsed.TotalSeconds);
            Console.WriteLine($"end to end: {endToEnd[^1]:F1} images/s ({result.SourceIndices.Length} embedded, {result.Failures.Count} failed)");

            rawSpinning.Add(tensors.Count / spinning.Run(tensors));
            rawSleeping.Add(tensors.Count / sleeping.Run(tensors));
            Console.WriteLine($"ONNX Runtime alone: {rawSpinning[^1]:F1} images/s spinning, {rawSleeping[^1]:F1} images/s sleeping");
        }

        // The ratio is taken against the faster baseline, so a spinning setting cannot flatter the embedder.
        double raw = Math.Max(Median(rawSpinning), Median(rawSleeping));
        Console.WriteLine();
        Console.WriteLine("| images | threads | EmbedFiles images/s (median, best) | ONNX Runtime alone, spinning (median, best) | ONNX Runtime alone, sleeping (median, best) | ratio to the faster median |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine($"| {paths.Length} | {threads} | {Median(endToEnd):F1}, {endToEnd.Max():F1} | {Median(rawSpinning):F1}, {rawSpinning.Max():F1} | " +
            $"{Median(rawSleeping):F1}, {rawSleeping.Max():F1} | {Median(endToEnd) / raw:F2} |");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    // One plain ONNX Runtime session of the model, run image by image on preprocessed tensors.
    private sealed class RawSession : IDisposable
    {
        private readonly SessionOptions _options;
        private readonly InferenceSession _session;
        private readonly RunOptions _runOptions = new();

        public RawSession(byte[] model, int threads, bool allowSpinning)
        {
            _options = new SessionOptions { IntraOpNumThreads = threads };
            _options.AddSessionConfigEntry("session.intra_op.allow_spinning", allowSpinning ? "1" : "0");
            _session = new InferenceSession(model, _options);
        }

        /// <summary>Runs every tensor and returns the seconds taken.</summary>
        public double Run(IEnumerable<float[]> tensors)
        {
            string inputName = _session.InputNames[0];
            string outputName = _session.OutputNames[0];
            var watch = Stopwatch.StartNew();
            foreach (float[] tensor in tensors)
            {
                using var input = OrtValue.CreateTensorValueFromMemory(tensor, [1, 3, 224, 224]);
                using var output = _session.Run(_runOptions, [inputName], [input], [outputName]);
            }

            return watch.Elapsed.TotalSeconds;
        }

        public void Dispose()
        {
            _session.Dispose();
            _options.Dispose();
            _runOptions.Dispose();
        }
    }
}
