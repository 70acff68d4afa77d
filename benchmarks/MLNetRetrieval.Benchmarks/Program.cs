using System.Diagnostics;
using System.Text.Json;
using MLNetRetrieval.Benchmarks;
using MLNetRetrieval.Indexes;

// Exact search on Fashion-MNIST: MLNetRetrieval ExactIndex against FAISS IndexFlatL2, k = 10.
// Usage: dotnet run -c Release --project benchmarks/MLNetRetrieval.Benchmarks -- [--data DIR] [--repeats N]
//        [--threads 1,2] [--queries N] [--skip-faiss] [--python PATH]
//        or: ... -- --pipeline N   (ML.NET scoring throughput against the direct API, N queries)
//        or: ... -- --metric-epoch [--threads N] [--epochs N]   (MLP training epochs, see benchmarks/metric)
//        or: ... -- --images DIR [--count N] [--threads 2] [--repeats N]   (image embedding throughput)
if (args.Length > 0 && args[0] == "--metric-epoch")
{
    int metricThreads = 1;
    int metricEpochs = 3;
    string metricData = "/usr/share/datasets/fashion-mnist";
    for (int i = 1; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option {args[i]} needs a value.");
        switch (args[i])
        {
            case "--threads":
                metricThreads = int.Parse(Value());
                break;
            case "--epochs":
                metricEpochs = int.Parse(Value());
                break;
            case "--data":
                metricData = Value();
                break;
            default:
                throw new ArgumentException($"Unknown option {args[i]} for --metric-epoch; valid: --threads N, --epochs N, --data DIR.");
        }
    }

    MetricEpoch.Run(metricData, metricThreads, metricEpochs);
    return;
}

var options = BenchmarkOptions.Parse(args);
const int K = 10;

if (options.ImagesFolder is not null)
{
    // End-to-end image embedding against ONNX Runtime alone; skips Fashion-MNIST.
    ImageThroughput.Run(options.ImagesFolder, options.ImageCount, options.Threads.Max(), options.Repeats);
    return;
}

var (basePixels, baseCount, dimension) = IdxImages.Read(Path.Combine(options.DataFolder, "train-images-idx3-ubyte.gz"));
var (queryPixels, allQueries, queryDimension) = IdxImages.Read(Path.Combine(options.DataFolder, "t10k-images-idx3-ubyte.gz"));
if (queryDimension != dimension)
{
    throw new InvalidDataException($"Train images have dimension {dimension} but test images {queryDimension}.");
}

if (options.PipelineQueries > 0)
{
    // Scoring through ML.NET against the direct API; skips the FAISS comparison.
    PipelineThroughput.Run(basePixels, dimension, queryPixels, Math.Min(options.PipelineQueries, allQueries));
    return;
}

int queryCount = options.Queries > 0 ? Math.Min(options.Queries, allQueries) : allQueries;
float[] queries = queryPixels.AsSpan(0, queryCount * dimension).ToArray();
Console.WriteLine($"base {baseCount} x {dimension}, queries {queryCount}, k {K}, repeats {options.Repeats}");

var index = new ExactIndex(dimension, DistanceMetric.SquaredEuclidean);
index.Add(basePixels);
var ids = new long[queryCount * K];
var distances = new float[queryCount * K];

// Warm-up: packs the base and lets tiered compilation reach the optimized kernels.
for (int i = 0; i < 3; i++)
{
    index.Search(queries.AsSpan(0, Math.Min(512, queryCount) * dimension), K, ids.AsSpan(0, Math.Min(512, queryCount) * K), distances.AsSpan(0, Math.Min(512, queryCount) * K), new SearchParameters { Threads = 1 });
}

var ours = new Dictionary<int, List<double>>();
var oursIds = new Dictionary<int, long[]>();
foreach (int threads in options.Threads)
{
    var seconds = new List<double>();
    for (int repeat = 0; repeat < options.Repeats; repeat++)
    {
        var watch = Stopwatch.StartNew();
        index.Search(queries, K, ids, distances, new SearchParameters { Threads = threads });
        seconds.Add(watch.Elapsed.TotalSeconds);
    }

    ours[threads] = seconds;
    oursIds[threads] = (long[])ids.Clone();
    Console.WriteLine($"ours   threads {threads}: {Format(seconds, queryCount)}");
}

bool identical = oursIds.Values.All(found => found.AsSpan().SequenceEqual(oursIds[options.Threads[0]]));
Console.WriteLine($"ours   results identical across thread counts: {identical}");

// FAISS runs once per thread count so that OpenBLAS (which does the GEMM) gets the same thread count as OpenMP.
// "auto" lets OpenBLAS pick its kernel for this CPU; "machine" keeps OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE as
// this machine sets them, if it does.
var faiss = new Dictionary<(string Kernel, int Threads), List<double>>();
var faissKernels = new List<string> { "auto" };
if (Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is not null)
{
    faissKernels.Add("machine");
}

double? faissRecall = null;
string truthPath = Path.Combine(Path.GetTempPath(), $"mlnr-fashion-mnist-truth-{queryCount}x{K}.i64");
if (!options.SkipFaiss)
{
    foreach (string kernel in faissKernels)
    {
        foreach (int threads in options.Threads)
        {
            var (seconds, recall) = RunFaiss(options, queryCount, threads, kernel == "auto", truthPath);
            faiss[(kernel, threads)] = seconds;
            faissRecall ??= recall;
            Console.WriteLine($"faiss  {kernel} threads {threads}: {Format(seconds, queryCount)}");
        }
    }
}

double? oursRecall = null;
if (File.Exists(truthPath))
{
    byte[] raw = File.ReadAllBytes(truthPath);
    long[] truth = new long[raw.Length / sizeof(long)];
    Buffer.BlockCopy(raw, 0, truth, 0, raw.Length);
    long[] found = oursIds[options.Threads[0]];
    int hits = 0;
    for (int q = 0; q < queryCount; q++)
    {
        var expected = new HashSet<long>(truth.AsSpan(q * K, K).ToArray());
        for (int j = 0; j < K; j++)
        {
            hits += expected.Contains(found[(q * K) + j]) ? 1 : 0;
        }
    }

    oursRecall = (double)hits / (queryCount * K);
}

Console.WriteLine();
Console.WriteLine("| threads | OpenBLAS kernel for FAISS | ours QPS (best / median) | FAISS QPS (best / median) | ratio (best / best) | ours recall@10 | FAISS recall@10 |");
Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|");
foreach (string kernel in faissKernels)
{
    foreach (int threads in options.Threads)
    {
        double oursBest = queryCount / ours[threads].Min();
        double oursMedian = queryCount / Median(ours[threads]);
        string faissText = "n/a";
        string ratio = "n/a";
        if (faiss.TryGetValue((kernel, threads), out var faissSeconds))
        {
            double faissBest = queryCount / faissSeconds.Min();
            faissText = $"{faissBest:F0} / {queryCount / Median(faissSeconds):F0}";
            ratio = $"{oursBest / faissBest:F2}";
        }

        Console.WriteLine($"| {threads} | {kernel} | {oursBest:F0} / {oursMedian:F0} | {faissText} | {ratio} | {oursRecall?.ToString("F4") ?? "n/a"} | {faissRecall?.ToString("F4") ?? "n/a"} |");
    }
}

static (List<double> Seconds, double? Recall) RunFaiss(BenchmarkOptions options, int queryCount, int threads, bool autoKernel, string truthPath)
{
    var start = new ProcessStartInfo(options.Python)
    {
        RedirectStandardOutput = true,
        UseShellExecute = false,
    };
    start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "peers", "faiss_flat.py"));
    foreach (string argument in new[] { "--data", options.DataFolder, "--threads", threads.ToString(), "--repeats", options.Repeats.ToString(), "--queries", queryCount.ToString(), "--ground-truth", truthPath })
    {
        start.ArgumentList.Add(argument);
    }

    if (autoKernel)
    {
        start.Environment.Remove("OPENBLAS_CORETYPE");
        start.Environment.Remove("OPENBLAS_L2_SIZE");
    }

    start.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString();
    using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {options.Python}.");
    var seconds = new List<double>();
    double? recall = null;
    string? line;
    while ((line = process.StandardOutput.ReadLine()) is not null)
    {
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        switch (root.GetProperty("kind").GetString())
        {
            case "info":
                Console.WriteLine($"faiss  {line}");
                break;
            case "timing":
                seconds.AddRange(root.GetProperty("seconds").EnumerateArray().Select(e => e.GetDouble()));
                break;
            case "recall":
                recall = root.GetProperty("recall").GetDouble();
                break;
        }
    }

    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"FAISS peer exited with code {process.ExitCode}.");
    }

    return (seconds, recall);
}

static string Format(List<double> seconds, int queries) =>
    $"{string.Join(", ", seconds.Select(s => $"{s:F3} s"))} -> best {queries / seconds.Min():F0} QPS, median {queries / Median(seconds):F0} QPS";

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}
