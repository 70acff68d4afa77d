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
        // A seeded sample across the whole folder, so that every category and size range is represented.
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

        using var sessionOptions = new SessionOptions { IntraOpNumThreads = threads };
        using var session = new InferenceSession(embedder.ModelBytes.ToArray(), sessionOptions);
        string inputName = session.InputNames[0];
        string outputName = session.OutputNames[0];
        using var runOptions = new RunOptions();

        void RawPass()
        {
            foreach (float[] tensor in tensors)
            {
                using var input = OrtValue.CreateTensorValueFromMemory(tensor, [1, 3, 224, 224]);
                using var output = session.Run(runOptions, [inputName], [input], [outputName]);
            }
        }

        // Warm-up of both paths, then alternate them so that drift in machine load hits both alike.
        embedder.EmbedFiles(paths[..Math.Min(8, paths.Length)]);
        using (var warm = OrtValue.CreateTensorValueFromMemory(tensors[0], [1, 3, 224, 224]))
        {
            session.Run(runOptions, [inputName], [warm], [outputName]).Dispose();
        }

        var endToEnd = new List<double>();
        var raw = new List<double>();
        for (int repeat = 0; repeat < repeats; repeat++)
        {
            var watch = Stopwatch.StartNew();
            EmbeddingBatchResult result = embedder.EmbedFiles(paths);
            endToEnd.Add(paths.Length / watch.Elapsed.TotalSeconds);
            Console.WriteLine($"end to end: {endToEnd[^1]:F1} images/s ({result.SourceIndices.Length} embedded, {result.Failures.Count} failed)");

            watch.Restart();
            RawPass();
            raw.Add(tensors.Count / watch.Elapsed.TotalSeconds);
            Console.WriteLine($"ONNX Runtime alone: {raw[^1]:F1} images/s");
        }

        double bestEnd = endToEnd.Max();
        double bestRaw = raw.Max();
        Console.WriteLine();
        Console.WriteLine("| images | threads | EmbedFiles images/s (best / median) | ONNX Runtime alone images/s (best / median) | ratio (best / best) | ratio (median / median) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine($"| {paths.Length} | {threads} | {bestEnd:F1} / {Median(endToEnd):F1} | {bestRaw:F1} / {Median(raw):F1} | {bestEnd / bestRaw:F2} | {Median(endToEnd) / Median(raw):F2} |");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
